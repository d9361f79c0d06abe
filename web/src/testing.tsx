// Test helpers for the console pages: a fetch stub that answers by "METHOD path"
// and records the calls, and a render wrapper with i18n, Ant Design App, TanStack
// Query and a MemoryRouter (with a catch-all route that shows where we landed).
import type { ReactElement } from 'react';
import { render } from '@testing-library/react';
import { App as AntApp } from 'antd';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router-dom';
import { vi } from 'vitest';
import './i18n';

export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}
export type Handler = Reply | ((url: URL, init: RequestInit) => Reply);
export interface Call {
  method: string;
  url: URL;
  body: unknown;
}

/** Stubs fetch: `routes` keys are "GET /api/v1/internal/system/setup" (path only). */
export function mockFetch(routes: Record<string, Handler>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', vi.fn(async (input: string, init: RequestInit = {}) => {
    const url = new URL(input, 'http://localhost');
    const method = init.method ?? 'GET';
    calls.push({ method, url, body: init.body ? JSON.parse(String(init.body)) : undefined });
    const h = routes[`${method} ${url.pathname}`];
    const r: Reply = !h ? { status: 404, body: { error: { code: 'NOT_FOUND', message: 'no route', request_id: 'x' } } }
      : typeof h === 'function' ? h(url, init) : h;
    const status = r.status ?? 200;
    return new Response(status === 204 ? null : JSON.stringify(r.body ?? {}), {
      status, headers: { 'Content-Type': 'application/json', ...(r.headers ?? {}) },
    });
  }));
  return calls;
}

function Where() {
  const loc = useLocation();
  return <div data-testid="location">{loc.pathname + loc.search}</div>;
}

/** Renders `element` at `path` (route pattern `route`); other paths show their location. */
export function renderPage(element: ReactElement, path = '/', route = '*') {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return render(
    <AntApp>
      <QueryClientProvider client={client}>
        <MemoryRouter initialEntries={[path]}>
          <Routes>
            <Route path={route} element={element} />
            {route !== '*' && <Route path="*" element={<Where />} />}
          </Routes>
        </MemoryRouter>
      </QueryClientProvider>
    </AntApp>,
  );
}

export const API = '/api/v1/internal';
export const err = (status: number, code: string, message: string, headers?: Record<string, string>): Reply => ({
  status, headers, body: { error: { code, message, request_id: 'req1' } },
});
