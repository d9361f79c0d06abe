// One way to call the admin API: JSON in, JSON out, errors as ApiError with the
// server's code, message and details. A 401 on an authenticated call ends the
// session; the router then sends the user to the login page and back.
import { endSession, getSession } from './session';

export const API = '/api/v1/internal';

export class ApiError extends Error {
  status: number;
  code: string;
  details: Record<string, unknown>;
  retryAfter: number | null;
  requestId: string | null;
  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {},
              retryAfter: number | null = null, requestId: string | null = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
    this.requestId = requestId;
  }
  // The config/body field the server named, when it named one (422s).
  get field(): string | null {
    const f = this.details?.field ?? this.details?.key;
    if (typeof f === 'string') return f;
    const m = /field '([^']+)'/.exec(this.message);
    return m ? m[1] : null;
  }
}

let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(f: () => void): void {
  onUnauthorized = f;
}

export async function toApiError(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  let details: Record<string, unknown> = {};
  let requestId = res.headers.get('X-Request-ID');
  try {
    const body = await res.json();
    if (body?.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
      details = body.error.details ?? {};
      requestId = body.error.request_id ?? requestId;
    }
  } catch {
    /* not JSON */
  }
  const ra = res.headers.get('Retry-After');
  return new ApiError(res.status, code, message, details, ra ? Number(ra) : null, requestId);
}

export interface CallOptions {
  auth?: boolean; // default true
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export async function call<T>(method: string, path: string, body?: unknown,
                              opts: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...(opts.headers ?? {}) };
  const session = getSession();
  const auth = opts.auth ?? true;
  if (auth && session) headers.Authorization = `Bearer ${session.token}`;
  let payload: BodyInit | undefined;
  if (body instanceof FormData || body instanceof Blob) payload = body;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path.startsWith('/') ? path : `${API}/${path}`, {
    method, headers, body: payload, signal: opts.signal,
  });
  if (!res.ok) {
    const err = await toApiError(res);
    if (res.status === 401 && auth) {
      endSession();
      onUnauthorized();
    }
    throw err;
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const get = <T>(path: string, opts?: CallOptions) => call<T>('GET', path, undefined, opts);
export const post = <T>(path: string, body?: unknown, opts?: CallOptions) => call<T>('POST', path, body, opts);
export const patch = <T>(path: string, body?: unknown, opts?: CallOptions) => call<T>('PATCH', path, body, opts);
export const del = <T>(path: string, opts?: CallOptions) => call<T>('DELETE', path, undefined, opts);

// Multipart upload with real progress events (fetch has none): resolves with the
// parsed JSON body, rejects with ApiError.
export function upload<T>(path: string, form: FormData, onProgress: (fraction: number) => void,
                          method = 'POST'): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, path.startsWith('/') ? path : `${API}/${path}`);
    const session = getSession();
    if (session) xhr.setRequestHeader('Authorization', `Bearer ${session.token}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve((xhr.responseText ? JSON.parse(xhr.responseText) : undefined) as T);
      } else {
        const headers: Record<string, string> = { 'Content-Type': 'application/json' };
        const ra = xhr.getResponseHeader('Retry-After');
        if (ra) headers['Retry-After'] = ra;
        const res = new Response(xhr.responseText || null, { status: xhr.status, headers });
        void toApiError(res).then((err) => {
          if (xhr.status === 401) {
            endSession();
            onUnauthorized();
          }
          reject(err);
        });
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK_ERROR', 'network error'));
    xhr.send(form);
  });
}
