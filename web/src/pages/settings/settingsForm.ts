// The Settings page's unsaved edits ("draft") and how a setting is shown: pure
// functions, tested on their own.
import { SECTIONS, type Setting, type SettingValue } from './settingsApi';

// key → edited value; null is an emptied number field (not savable).
export type Draft = Record<string, SettingValue | null>;

/** The value an editor starts from: the saved one (pending if not running yet); a secret starts empty. */
export function savedValue(s: Setting): SettingValue {
  if (s.secret) return '';
  return s.pending && s.pending_value !== undefined ? s.pending_value : s.value;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The draft with `key` set to `v`, or without it when `v` is what is saved (an empty secret: unchanged). */
export function withEdit(draft: Draft, s: Setting, v: SettingValue | null): Draft {
  const { [s.key]: _, ...rest } = draft;
  return same(v, savedValue(s)) ? rest : { ...rest, [s.key]: v };
}

/** Keys of the draft whose value cannot be sent (an emptied number). */
export const invalidKeys = (draft: Draft) => Object.keys(draft).filter((k) => draft[k] === null);

/** Whether a setting's key or environment variable contains `query` (any case). */
export function matches(s: Setting, query: string): boolean {
  const q = query.trim().toLowerCase();
  return !q || s.key.toLowerCase().includes(q) || s.env.toLowerCase().includes(q);
}

/** Settings by section: the known sections in their order, then any other in the server's order. */
export function bySection(keys: Setting[]): [string, Setting[]][] {
  const groups = new Map<string, Setting[]>(SECTIONS.map((s) => [s, []]));
  for (const k of keys) {
    if (!groups.has(k.section)) groups.set(k.section, []);
    groups.get(k.section)!.push(k);
  }
  return [...groups].filter(([, list]) => list.length > 0);
}

/** A value as text: a list comma-separated, an empty string or list as `empty`. */
export function formatValue(v: SettingValue | undefined, empty: string): string {
  if (Array.isArray(v)) return v.length ? v.join(', ') : empty;
  if (v === '' || v === undefined) return empty;
  return String(v);
}

/** The draft after `sent` was saved: edits made while saving (another value) stay. */
export function withoutSent(draft: Draft, sent: Draft): Draft {
  return Object.fromEntries(Object.entries(draft).filter(([k, v]) => !(k in sent && same(v, sent[k]))));
}
