// Shared helpers of the setup, login and account pages: logging in, turning a
// Session response into the stored session, the safe `next` redirect and the
// password strength hint (the server's only rule: 8 to 1024 bytes, UTF-8).
import { get, post } from '../../api/client';
import { setSession, type Role } from '../../api/session';

export const MIN_PASSWORD_BYTES = 8;
export const MAX_PASSWORD_BYTES = 1024;

/** The server's Session schema (login and password change). */
export interface SessionResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  role?: Role;
  must_change_password?: boolean;
}

export function fetchSetupStatus(): Promise<{ initialized: boolean }> {
  return get<{ initialized: boolean }>('system/setup', { auth: false });
}

/** Stores a Session answer as the console's session. */
export function storeSession(username: string, s: SessionResponse): void {
  setSession({
    token: s.access_token,
    username,
    expiresAt: Date.now() + s.expires_in * 1000,
    role: s.role ?? 'viewer',
    mustChangePassword: !!s.must_change_password,
  });
}

export async function login(username: string, password: string): Promise<void> {
  const s = await post<SessionResponse>('auth/login', { username, password }, { auth: false });
  storeSession(username, s);
}

/** The `next` target if it is a same-origin path ("/x", never "//host"), else "/". */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  return next;
}

export function utf8Bytes(s: string): number {
  return new TextEncoder().encode(s).length;
}

/**
 * A 0..4 strength score: 0 when the server would refuse the password (under 8 bytes),
 * then one point each for length >= 12, >= 16, and for mixing 3+ character classes.
 */
export function passwordScore(pw: string): number {
  if (utf8Bytes(pw) < MIN_PASSWORD_BYTES) return 0;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(pw)).length;
  let score = 1;
  if (pw.length >= 12) score += 1;
  if (pw.length >= 16) score += 1;
  if (classes >= 3) score += 1;
  return score;
}

/** Ant Design Form rule: 8..1024 bytes, as the server checks. */
export function passwordLengthRule(message: string) {
  return {
    validator: (_: unknown, v: string | undefined) => {
      const n = utf8Bytes(v ?? '');
      return n >= MIN_PASSWORD_BYTES && n <= MAX_PASSWORD_BYTES ? Promise.resolve() : Promise.reject(new Error(message));
    },
  };
}
