// Settings page against a stubbed fetch: sources, apply modes and env-fixed keys
// shown; one PATCH of exactly the changed keys; a 422 at the key it names with the
// edit kept, and discarded; the restart alert; reset sends null; the search; admin-only navigation;
// the draft helpers; and both languages complete.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import SettingsPage from '../SettingsPage';
import AppLayout from '../../components/AppLayout';
import { API, mockFetch, renderPage, type Call } from '../../testing';
import { setSession, type Role } from '../../api/session';
import type { Setting, SystemConfig } from './settingsApi';
import { bySection, invalidKeys, savedValue, withEdit, withoutSent } from './settingsForm';

vi.setConfig({ testTimeout: 30_000 });
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  setSession(null);
});

const CONFIG = `${API}/system/config`;
const REASON = 'set by the environment variable CINFER_AUTH__IP_FILTER__ENABLED';

function keys(): Setting[] {
  return [
    { key: 'server.log_level', section: 'server', type: 'string', choices: ['trace', 'debug', 'info', 'warn', 'error', 'off'],
      value: 'info', default: 'info', source: 'default', apply: 'live', secret: false, editable: true, env: 'CINFER_SERVER__LOG_LEVEL' },
    { key: 'server.workers', section: 'server', type: 'integer', min: 1, max: 256, value: 4, default: 4, source: 'override',
      apply: 'restart', secret: false, editable: true, pending: true, pending_value: 8, env: 'CINFER_SERVER__WORKERS' },
    { key: 'server.trusted_proxies', section: 'server', type: 'list', value: [], default: [], source: 'file', apply: 'live',
      secret: false, editable: true, env: 'CINFER_SERVER__TRUSTED_PROXIES' },
    { key: 'request.timeout_ms', section: 'request', type: 'integer', min: 1, max: 600000, value: 5000, default: 5000,
      source: 'file', apply: 'live', secret: false, editable: true, env: 'CINFER_REQUEST__TIMEOUT_MS' },
    { key: 'auth.ip_filter.enabled', section: 'auth', type: 'boolean', value: true, default: true, source: 'environment',
      apply: 'live', secret: false, editable: false, reason: REASON, env: 'CINFER_AUTH__IP_FILTER__ENABLED' },
    { key: 'auth.jwt_secret', section: 'auth', type: 'string', value: '********', default: '', source: 'file', apply: 'restart',
      secret: true, editable: true, env: 'CINFER_AUTH__JWT_SECRET' },
  ];
}

function doc(over: Partial<SystemConfig> = {}, patchKey?: (s: Setting) => Setting): SystemConfig {
  return {
    override_file: '/var/lib/cinfer/config-override.yaml', pending_restart: ['server.workers'],
    keys: patchKey ? keys().map(patchKey) : keys(), ...over,
  };
}

const row = (key: string) => screen.getByTestId(`setting-row-${key}`);
const input = (key: string) => within(row(key)).getByLabelText(key) as HTMLInputElement;
const setNumber = (key: string, v: string) => fireEvent.change(input(key), { target: { value: v } });
const patches = (calls: Call[]) => calls.filter((c) => c.method === 'PATCH').map((c) => c.body);

describe('SettingsPage', () => {
  it('shows sources, apply modes, pending restarts and env-fixed keys as read-only', async () => {
    mockFetch({ [`GET ${CONFIG}`]: { body: doc() } });
    renderPage(<SettingsPage />, '/settings');
    expect((await screen.findByTestId('setting-source-server.log_level')).textContent).toBe('default');
    expect(screen.getByTestId('setting-source-server.workers').textContent).toBe('override');
    expect(screen.getByTestId('setting-source-request.timeout_ms').textContent).toBe('file');
    expect(screen.getByTestId('setting-source-auth.ip_filter.enabled').textContent).toBe('environment');
    expect(screen.getByTestId('setting-apply-server.log_level').textContent).toBe('live');
    expect(screen.getByTestId('setting-apply-server.workers').textContent).toBe('restart');
    expect(screen.getByTestId('setting-pending-server.workers').textContent).toBe('pending restart → 8');
    expect(screen.queryByTestId('setting-pending-request.timeout_ms')).toBeNull();
    // The editor starts from the saved (pending) value, not the running one.
    expect(input('server.workers').value).toBe('8');
    expect(within(row('server.workers')).getByText('CINFER_SERVER__WORKERS')).toBeTruthy();
    // Sections in their order, titled.
    expect(screen.getAllByTestId(/^settings-section-/).map((e) => e.dataset.testid))
      .toEqual(['settings-section-server', 'settings-section-request', 'settings-section-auth']);
    expect(within(screen.getByTestId('settings-section-auth')).getByText('Authentication')).toBeTruthy();
    // Env-fixed: disabled, with the reason on hover; no reset for non-overrides.
    const fixed = input('auth.ip_filter.enabled');
    expect(fixed.disabled).toBe(true);
    expect(within(row('auth.ip_filter.enabled')).getByLabelText(REASON)).toBeTruthy();
    fireEvent.mouseEnter(screen.getByTestId('setting-locked-auth.ip_filter.enabled'));
    expect(await screen.findByRole('tooltip')).toBeTruthy();
    expect(screen.getAllByText(REASON).length).toBeGreaterThan(0);
    expect(input('server.log_level').closest('.ant-select-disabled')).toBeNull();
    expect(screen.queryByTestId('setting-reset-auth.ip_filter.enabled')).toBeNull();
    expect(screen.queryByTestId('setting-reset-request.timeout_ms')).toBeNull();
    expect(screen.getByTestId('setting-reset-server.workers')).toBeTruthy();
    // A set secret is never shown; its field starts empty.
    expect(input('auth.jwt_secret').value).toBe('');
    expect(input('auth.jwt_secret').placeholder).toBe('Set; leave empty to keep it');
    expect(screen.getByTestId('settings-save')).toHaveProperty('disabled', true);
  });

  it('saves exactly the changed keys in one PATCH, then clears the draft', async () => {
    const calls = mockFetch({
      [`GET ${CONFIG}`]: { body: doc() },
      [`PATCH ${CONFIG}`]: { body: { ...doc({}, (s) => (s.key === 'request.timeout_ms' ? { ...s, value: 7000 } : s)),
        changed: ['request.timeout_ms'] } },
    });
    renderPage(<SettingsPage />, '/settings');
    await screen.findByTestId('setting-row-request.timeout_ms');
    // An edit returned to the saved value is no edit.
    await userEvent.clear(input('server.workers'));
    expect(screen.getByTestId('settings-save')).toHaveProperty('disabled', true); // an empty number
    expect(within(row('server.workers')).getByText('Enter a number')).toBeTruthy();
    await userEvent.type(input('server.workers'), '8');
    expect(screen.getByTestId('settings-unsaved').textContent).toBe('No unsaved changes');
    await userEvent.clear(input('request.timeout_ms'));
    await userEvent.type(input('request.timeout_ms'), '7000');
    expect(screen.getByTestId('settings-unsaved').textContent).toBe('1 unsaved change');
    expect(screen.getByTestId('setting-unsaved-request.timeout_ms')).toBeTruthy();
    await userEvent.click(screen.getByTestId('settings-save'));
    expect(await screen.findByText('1 setting changed')).toBeTruthy();
    expect(patches(calls)).toEqual([{ 'request.timeout_ms': 7000 }]);
    expect(screen.getByTestId('settings-unsaved').textContent).toBe('No unsaved changes');
    expect(input('request.timeout_ms').value).toBe('7000');
  });

  it('sends a typed secret and a list', async () => {
    const calls = mockFetch({
      [`GET ${CONFIG}`]: { body: doc() },
      [`PATCH ${CONFIG}`]: { body: { ...doc(), changed: ['auth.jwt_secret', 'server.trusted_proxies'] } },
    });
    renderPage(<SettingsPage />, '/settings');
    await userEvent.type(await screen.findByLabelText('auth.jwt_secret'), 's3c');
    await userEvent.type(input('server.trusted_proxies'), '10.0.0.0/8,');
    expect(screen.getByTestId('settings-unsaved').textContent).toBe('2 unsaved changes');
    await userEvent.click(screen.getByTestId('settings-save'));
    expect(await screen.findByText('2 settings changed')).toBeTruthy();
    expect(patches(calls)).toEqual([{ 'auth.jwt_secret': 's3c', 'server.trusted_proxies': ['10.0.0.0/8'] }]);
  });

  it("shows a 422 at the key the server names and keeps the edit", async () => {
    const msg = "invalid value '70000' for config key 'request.timeout_ms': must be between 1 and 60000";
    const calls = mockFetch({
      [`GET ${CONFIG}`]: { body: doc() },
      [`PATCH ${CONFIG}`]: { status: 422,
        body: { error: { code: 'VALIDATION_ERROR', message: msg, request_id: 'r', details: { field: 'request.timeout_ms' } } } },
    });
    renderPage(<SettingsPage />, '/settings');
    await screen.findByTestId('setting-row-request.timeout_ms');
    setNumber('request.timeout_ms', '70000');
    fireEvent.mouseDown(within(row('server.log_level')).getByRole('combobox'));
    await userEvent.click((await screen.findAllByText('debug')).at(-1)!);
    await userEvent.click(screen.getByTestId('settings-save'));
    await waitFor(() => expect(within(row('request.timeout_ms')).getByText(msg)).toBeTruthy());
    expect(patches(calls)).toEqual([{ 'request.timeout_ms': 70000, 'server.log_level': 'debug' }]);
    expect(row('request.timeout_ms').querySelector('.ant-form-item-has-error')).toBeTruthy();
    expect(row('server.log_level').querySelector('.ant-form-item-has-error')).toBeNull();
    expect(screen.queryByTestId('settings-error')).toBeNull(); // shown at the key, not above
    expect(input('request.timeout_ms').value).toBe('70000');
    expect(screen.getByTestId('settings-unsaved').textContent).toBe('2 unsaved changes');
    expect(screen.getByTestId('settings-save')).toHaveProperty('disabled', false);
    // Editing the key clears its error; Discard drops every edit.
    setNumber('request.timeout_ms', '60000');
    expect(within(row('request.timeout_ms')).queryByText(msg)).toBeNull();
    await userEvent.click(screen.getByTestId('settings-discard'));
    expect(screen.getByTestId('settings-unsaved').textContent).toBe('No unsaved changes');
    expect(input('request.timeout_ms').value).toBe('5000');
    expect(screen.getByTestId('settings-save')).toHaveProperty('disabled', true);
  });

  it('shows a 409 for a key that is filtered out above the table', async () => {
    mockFetch({
      [`GET ${CONFIG}`]: { body: doc() },
      [`PATCH ${CONFIG}`]: { status: 409, body: { error: { code: 'FIXED_BY_ENVIRONMENT', request_id: 'r',
        message: 'server.log_level is set by the environment', details: { field: 'server.log_level' } } } },
    });
    renderPage(<SettingsPage />, '/settings');
    fireEvent.mouseDown(within(await screen.findByTestId('setting-row-server.log_level')).getByRole('combobox'));
    await userEvent.click((await screen.findAllByText('warn')).at(-1)!);
    await userEvent.type(screen.getByTestId('settings-search'), 'timeout');
    expect(screen.queryByTestId('setting-row-server.log_level')).toBeNull();
    await userEvent.click(screen.getByTestId('settings-save'));
    expect((await screen.findByTestId('settings-error')).textContent)
      .toContain('server.log_level: server.log_level is set by the environment');
    expect(screen.getByTestId('settings-unsaved').textContent).toBe('1 unsaved change');
  });

  it('lists the settings waiting for a restart after a save', async () => {
    const idle = doc({ pending_restart: [] }, (s) => (s.key === 'server.workers' ? { ...s, pending: undefined, pending_value: undefined, value: 4 } : s));
    const calls = mockFetch({
      [`GET ${CONFIG}`]: { body: idle },
      [`PATCH ${CONFIG}`]: { body: { ...doc({}, (s) => (s.key === 'server.workers' ? { ...s, pending_value: 16 } : s)), changed: ['server.workers'] } },
    });
    renderPage(<SettingsPage />, '/settings');
    await screen.findByTestId('setting-row-server.workers');
    expect(screen.queryByTestId('settings-pending')).toBeNull();
    expect(screen.queryByTestId('setting-pending-server.workers')).toBeNull();
    setNumber('server.workers', '16');
    await userEvent.click(screen.getByTestId('settings-save'));
    const alert = await screen.findByTestId('settings-pending');
    expect(alert.textContent).toContain('1 setting takes effect after a restart');
    expect(alert.textContent).toContain('server.workers running 4, after the restart 16');
    expect(screen.getByTestId('setting-pending-server.workers').textContent).toBe('pending restart → 16');
    expect(patches(calls)).toEqual([{ 'server.workers': 16 }]);
  });

  it('resets an override by sending null for its key', async () => {
    const calls = mockFetch({
      [`GET ${CONFIG}`]: { body: doc() },
      [`PATCH ${CONFIG}`]: { body: { ...doc({ pending_restart: [] }, (s) => (s.key === 'server.workers'
        ? { ...s, source: 'file', pending: undefined, pending_value: undefined } : s)), changed: ['server.workers'] } },
    });
    renderPage(<SettingsPage />, '/settings');
    expect((await screen.findByTestId('settings-pending')).textContent).toContain('1 setting takes effect after a restart');
    expect(screen.queryByTestId('setting-reset-server.log_level')).toBeNull(); // not an override
    await userEvent.click(screen.getByTestId('setting-reset-server.workers'));
    await userEvent.click(await screen.findByTestId('confirm-ok'));
    expect(await screen.findByText('server.workers is back to its file/default value')).toBeTruthy();
    expect(patches(calls)).toEqual([{ 'server.workers': null }]);
    expect(screen.getByTestId('setting-source-server.workers').textContent).toBe('file');
    expect(screen.queryByTestId('setting-reset-server.workers')).toBeNull();
    expect(screen.queryByTestId('settings-pending')).toBeNull();
  });

  it('filters keys by name or variable', async () => {
    mockFetch({ [`GET ${CONFIG}`]: { body: doc() } });
    renderPage(<SettingsPage />, '/settings');
    await screen.findByTestId('setting-row-server.workers');
    await userEvent.type(screen.getByTestId('settings-search'), 'JWT');
    expect(screen.getAllByTestId(/^setting-row-/).map((e) => e.dataset.testid)).toEqual(['setting-row-auth.jwt_secret']);
    expect(screen.queryByTestId('settings-section-server')).toBeNull();
    await userEvent.clear(screen.getByTestId('settings-search'));
    await userEvent.type(screen.getByTestId('settings-search'), 'nothing-like-this');
    expect(screen.getByText('No setting matches “nothing-like-this”')).toBeTruthy();
  });

  it("shows the server's refusal to a non-admin", async () => {
    mockFetch({ [`GET ${CONFIG}`]: { status: 403, body: { error: { code: 'FORBIDDEN', message: 'admin role required', request_id: 'r' } } } });
    renderPage(<SettingsPage />, '/settings');
    expect(await screen.findByText('admin role required')).toBeTruthy();
    expect(screen.queryByTestId('settings-save')).toBeNull();
  });
});

describe('navigation', () => {
  for (const [role, shown] of [['admin', true], ['operator', false], ['viewer', false]] as [Role, boolean][]) {
    it(`${shown ? 'shows' : 'hides'} Settings for the ${role} role`, () => {
      setSession({ token: 't', username: 'x', expiresAt: Date.now() + 3600_000, role });
      mockFetch({});
      renderPage(<AppLayout />, '/');
      expect(!!screen.queryByText('Settings')).toBe(shown);
      expect(!!screen.queryByText('Users')).toBe(shown);
    });
  }
});

describe('draft helpers', () => {
  const [logLevel, workers, proxies] = keys();
  const secret = keys()[5];
  it('starts from the saved value (the pending one when not running yet; a secret empty)', () => {
    expect(savedValue(logLevel)).toBe('info');
    expect(savedValue(workers)).toBe(8);
    expect(savedValue(secret)).toBe('');
  });
  it('keeps only values that differ from what is saved', () => {
    let d = withEdit({}, workers, 16);
    expect(d).toEqual({ 'server.workers': 16 });
    d = withEdit(d, proxies, ['10.0.0.0/8']);
    expect(withEdit(d, workers, 8)).toEqual({ 'server.trusted_proxies': ['10.0.0.0/8'] });
    expect(withEdit(d, proxies, [])).toEqual({ 'server.workers': 16 });
    expect(withEdit({}, secret, '')).toEqual({});
    expect(invalidKeys(withEdit(d, workers, null))).toEqual(['server.workers']);
  });
  it('drops what was saved but keeps edits made meanwhile', () => {
    expect(withoutSent({ a: 1, b: 'x' }, { a: 1, b: 'y' })).toEqual({ b: 'x' });
  });
  it('groups by section, known sections first, in their order', () => {
    const other = { ...logLevel, key: 'zeta.x', section: 'zeta' };
    const auth = keys()[4];
    expect(bySection([other, auth, logLevel]).map(([s, l]) => [s, l.map((k) => k.key)]))
      .toEqual([['server', ['server.log_level']], ['auth', ['auth.ip_filter.enabled']], ['zeta', ['zeta.x']]]);
  });
});

describe('translations', () => {
  const files = import.meta.glob('../../i18n/*/settings.json', { eager: true, import: 'default' }) as Record<string, Record<string, unknown>>;
  const flat = (o: Record<string, unknown>, p = ''): string[] => Object.entries(o).flatMap(([k, v]) => (
    typeof v === 'object' && v !== null ? flat(v as Record<string, unknown>, `${p}${k}.`)
      : [`${p}${k}${typeof v === 'string' && v.trim() ? '' : ' (empty)'}`]));
  it('settings: en and zh have the same non-empty keys', () => {
    const en = flat(files['../../i18n/en/settings.json']).sort();
    expect(en.filter((k) => k.endsWith('(empty)'))).toEqual([]);
    expect(flat(files['../../i18n/zh/settings.json']).sort()).toEqual(en);
  });
});
