// The admin session: the JWT lives in memory and in sessionStorage (so a reload
// keeps the tab logged in), never in a URL or a cookie.
const KEY = 'cinfer.session';

export type Role = 'admin' | 'operator' | 'viewer';

export interface Session {
  token: string;
  username: string;
  expiresAt: number; // epoch ms
  role?: Role;
  // An administrator reset the password: only the account page works until it changes.
  mustChangePassword?: boolean;
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether the session's role is at least `need` (the server enforces it; the UI hides). */
export function hasRole(s: Session | null, need: Role): boolean {
  return !!s && RANK[s.role ?? 'viewer'] >= RANK[need];
}

type Listener = (s: Session | null) => void;

// The last session ended by itself (it expired, or the server refused it), not
// by logging out: the login page then says "session expired".
let ended = false;
let current: Session | null = load();
const listeners = new Set<Listener>();

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    if (typeof s.token !== 'string' || typeof s.expiresAt !== 'number') return null;
    if (s.expiresAt > Date.now()) return s;
    ended = true;
    return null;
  } catch {
    return null;
  }
}

export function getSession(): Session | null {
  if (current && current.expiresAt <= Date.now()) endSession();
  return current;
}

/** Ends the session because it expired or the server refused it (a 401). */
export function endSession(): void {
  ended = true;
  setSession(null);
}

/** Whether the last session expired or was refused, rather than logged out. */
export function sessionEnded(): boolean {
  return ended && current === null;
}

export function setSession(s: Session | null): void {
  if (s) ended = false;
  current = s;
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
  listeners.forEach((l) => l(s));
}

export function onSessionChange(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
