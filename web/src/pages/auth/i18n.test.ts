// Every key of the auth, dashboard, tokens and logs namespaces exists in both
// English and Chinese, and no translation is empty.
import { describe, expect, it } from 'vitest';

function keys(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' && v !== null
    ? keys(v as Record<string, unknown>, `${prefix}${k}.`)
    : [`${prefix}${k}${typeof v === 'string' && v.trim() ? '' : ' (empty)'}`]));
}
const files = import.meta.glob('../../i18n/*/*.json', { eager: true, import: 'default' }) as Record<string, Record<string, unknown>>;
const load = (lang: string, ns: string) => files[`../../i18n/${lang}/${ns}.json`];

describe('translations', () => {
  for (const ns of ['auth', 'dashboard', 'tokens', 'logs']) {
    it(`${ns}: en and zh have the same non-empty keys`, () => {
      const en = keys(load('en', ns)).sort();
      expect(en.filter((k) => k.endsWith('(empty)'))).toEqual([]);
      expect(keys(load('zh', ns)).sort()).toEqual(en);
    });
  }
});
