// Pure helpers of the token pages: the API types, the state derivation (same order
// as the server: expired, paused, exceeded, active), IP/CIDR validation for the
// whitelist, and the mapping between the form and the create/patch body.
import type { Dayjs } from 'dayjs';
import dayjs from 'dayjs';

export type TokenState = 'active' | 'paused' | 'expired' | 'exceeded';

export interface Token {
  id: string;
  name: string;
  remark: string;
  token_hint: string;
  state: TokenState;
  is_active: boolean;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  allowed_models: string[];
  ip_whitelist: string[];
  rate_limit_per_minute: number | null;
  monthly_limit: number | null;
  used_count: number;
  usage_month: string | null;
  quota_remaining: number | null;
  last_used_at: string | null;
  created_by: string;
}
export interface CreatedToken extends Token {
  token: string;
}
export interface Paged<T> {
  items: T[];
  total: number;
  page: number;
  page_size: number;
}
export interface TokenUsage {
  token_id: string;
  from: string;
  to: string;
  total: number;
  used_count: number;
  usage_month: string | null;
  monthly_limit: number | null;
  days: { date: string; count: number }[];
  models: { model_id: string; count: number }[];
}

type StateFields = Pick<Token, 'is_active' | 'expires_at' | 'used_count' | 'monthly_limit'>;

/** The token's state now, derived from its fields as the server does. */
export function deriveState(t: StateFields, now: number = Date.now()): TokenState {
  if (t.expires_at && Date.parse(t.expires_at) <= now) return 'expired';
  if (!t.is_active) return 'paused';
  if (t.monthly_limit !== null && t.used_count >= t.monthly_limit) return 'exceeded';
  return 'active';
}

export const STATE_COLORS: Record<TokenState, string> = {
  active: 'success', paused: 'warning', expired: 'default', exceeded: 'error',
};

/** used/limit as a 0..100 percentage; null when there is no monthly limit. */
export function usagePercent(used: number, limit: number | null): number | null {
  if (limit === null || limit <= 0) return null;
  return Math.min(100, Math.round((used / limit) * 1000) / 10);
}

function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function isIPv6(s: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(s)) return false;
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const all = [...groups(halves[0]), ...(halves.length === 2 ? groups(halves[1]) : [])];
  let count = 0;
  for (let i = 0; i < all.length; i++) {
    const g = all[i];
    if (i === all.length - 1 && g.includes('.')) {
      if (!isIPv4(g)) return false;
      count += 2;
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(g)) count += 1;
    else return false;
  }
  return halves.length === 2 ? count < 8 : count === 8;
}

/** True for an IPv4 or IPv6 address, optionally with a /prefix (CIDR). */
export function isIpOrCidr(entry: string): boolean {
  const [addr, prefix, extra] = entry.trim().split('/');
  if (extra !== undefined || !addr) return false;
  const v4 = isIPv4(addr);
  if (!v4 && !isIPv6(addr)) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (v4 ? 32 : 128);
}

export function invalidIpEntries(entries: string[] | undefined): string[] {
  return (entries ?? []).filter((e) => !isIpOrCidr(e));
}

export interface TokenFormValues {
  name: string;
  remark?: string;
  expires_at?: Dayjs | null;
  allowed_models?: string[];
  ip_whitelist?: string[];
  rate_limit_per_minute?: number | null;
  monthly_limit?: number | null;
}

export interface TokenBody {
  name: string;
  remark: string;
  expires_at: string | null;
  allowed_models: string[];
  ip_whitelist: string[];
  rate_limit_per_minute: number | null;
  monthly_limit: number | null;
}

const orNull = (v: number | null | undefined) => (v === undefined || v === null ? null : v);

/** The JSON body for POST/PATCH tokens: empty limits and expiry are null (none). */
export function toBody(v: TokenFormValues): TokenBody {
  const models = v.allowed_models ?? [];
  return {
    name: v.name.trim(),
    remark: v.remark ?? '',
    expires_at: v.expires_at ? v.expires_at.toISOString() : null,
    allowed_models: models.length === 0 || models.includes('*') ? ['*'] : models,
    ip_whitelist: (v.ip_whitelist ?? []).map((e) => e.trim()).filter(Boolean),
    rate_limit_per_minute: orNull(v.rate_limit_per_minute),
    monthly_limit: orNull(v.monthly_limit),
  };
}

export function toFormValues(t: Token): TokenFormValues {
  return {
    name: t.name,
    remark: t.remark,
    expires_at: t.expires_at ? dayjs(t.expires_at) : null,
    allowed_models: t.allowed_models,
    ip_whitelist: t.ip_whitelist,
    rate_limit_per_minute: t.rate_limit_per_minute,
    monthly_limit: t.monthly_limit,
  };
}

export function formatTime(s: string | null | undefined): string {
  return s ? dayjs(s).format('YYYY-MM-DD HH:mm') : '';
}
