// Test helpers for the models and playground pages: providers, a fetch stub
// answering by path, and a fake XMLHttpRequest for upload().
import type { ReactElement } from 'react';
import { renderPage } from '../../testing';
import { vi } from 'vitest';
import '../../i18n';

export function renderAt(path: string, route: string, element: ReactElement) {
  return renderPage(element, path, route);
}

export type Handler = (url: URL, init: RequestInit | undefined) => { status?: number; body?: unknown } | undefined;

// Stubs fetch; each call goes to `handler`, which answers with JSON.
export function stubFetch(handler: Handler) {
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://localhost');
    const r = handler(url, init) ?? { status: 404, body: { error: { code: 'NOT_FOUND', message: 'not found' } } };
    const status = r.status ?? 200;
    return new Response(status === 204 ? null : JSON.stringify(r.body ?? {}), {
      status, headers: { 'Content-Type': 'application/json' },
    });
  });
  vi.stubGlobal('fetch', fn);
  return fn;
}

export interface FakeXhrReply { status: number; body: unknown }
export const xhrLog: { method: string; url: string; body: unknown }[] = [];

// Stubs XMLHttpRequest: send() reports progress 50 % then 100 %, then answers
// once `gate` (when given) resolves. With `endWithResponse`, the 100 % comes in
// the same task as the answer, as Chromium does when the body went out between
// two of its upload-progress polls.
export function stubXhr(reply: (url: string) => FakeXhrReply, gate: Promise<void> = Promise.resolve(),
                        endWithResponse = false) {
  class FakeXhr {
    status = 0;
    responseText = '';
    upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = { onprogress: null };
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    private url = '';
    private method = '';
    open(method: string, url: string) { this.method = method; this.url = url; }
    setRequestHeader() {}
    getResponseHeader() { return null; }
    send(body: unknown) {
      xhrLog.push({ method: this.method, url: this.url, body });
      const r = reply(this.url);
      setTimeout(() => this.upload.onprogress?.({ lengthComputable: true, loaded: 50, total: 100 }), 0);
      const end = () => this.upload.onprogress?.({ lengthComputable: true, loaded: 100, total: 100 });
      if (!endWithResponse) setTimeout(end, 5);
      setTimeout(() => void gate.then(() => {
        if (endWithResponse) end();
        this.status = r.status;
        this.responseText = JSON.stringify(r.body);
        this.onload?.();
      }), 10);
    }
  }
  vi.stubGlobal('XMLHttpRequest', FakeXhr);
}
