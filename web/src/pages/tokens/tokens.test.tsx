// Token pages: pure helpers, the list, the create flow (IP validation, one-time
// value dialog), row actions and the detail page, against a stubbed fetch.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import TokensPage from '../TokensPage';
import TokenDetailPage from '../TokenDetailPage';
import { API, mockFetch, renderPage } from '../../testing';
import { deriveState, isIpOrCidr, toBody, usagePercent, type Token } from './tokenUtils';
import { curlSnippet } from './snippets';

vi.mock('../dashboard/EChart', () => ({ default: ({ testId }: { testId?: string }) => <div data-testid={testId} /> }));
vi.setConfig({ testTimeout: 30_000 });
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const FUTURE = new Date(Date.now() + 86400_000 * 30).toISOString();
function token(over: Partial<Token> = {}): Token {
  return {
    id: 't1', name: 'app', remark: '', token_hint: 'cit_…Ab9z', state: 'active', is_active: true,
    created_at: '2026-11-01T00:00:00Z', updated_at: '2026-11-01T00:00:00Z', expires_at: FUTURE,
    allowed_models: ['*'], ip_whitelist: [], rate_limit_per_minute: 60, monthly_limit: 1000, used_count: 42,
    usage_month: '2026-11', quota_remaining: 958, last_used_at: null, created_by: 'admin', ...over,
  };
}
const MODELS = { items: [{ id: 'm1', name: 'cls' }, { id: 'm2', name: 'det' }], total: 2, page: 1, page_size: 100 };

describe('token helpers', () => {
  it('derives the state in the server order', () => {
    const now = Date.parse('2026-11-29T00:00:00Z');
    const base = { is_active: true, expires_at: null, used_count: 5, monthly_limit: 10 };
    expect(deriveState(base, now)).toBe('active');
    expect(deriveState({ ...base, used_count: 10 }, now)).toBe('exceeded');
    expect(deriveState({ ...base, used_count: 10, is_active: false }, now)).toBe('paused');
    expect(deriveState({ ...base, is_active: false, expires_at: '2026-11-28T00:00:00Z' }, now)).toBe('expired');
    expect(deriveState({ ...base, monthly_limit: null, used_count: 1e9 }, now)).toBe('active');
  });
  it('validates IP addresses and CIDRs', () => {
    for (const ok of ['10.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '::1', '2001:db8::/32', '::ffff:10.1.2.3', 'fe80::1:2:3:4:5', '1:2:3:4:5:6:7:8'])
      expect(isIpOrCidr(ok), ok).toBe(true);
    for (const bad of ['10.0.0.256', '10.0.0', '10.0.0.0/33', '2001:db8::/129', '1:2:3:4:5:6:7:8:9', '1::2::3', 'host.example', '10.0.0.1/', '', '10.0.0.1/8/8', 'gggg::1'])
      expect(isIpOrCidr(bad), bad).toBe(false);
  });
  it('maps empty limits and expiry to null and an empty model list to ["*"]', () => {
    expect(toBody({ name: ' x ', allowed_models: [], rate_limit_per_minute: undefined, monthly_limit: null })).toEqual({
      name: 'x', remark: '', expires_at: null, allowed_models: ['*'], ip_whitelist: [], rate_limit_per_minute: null, monthly_limit: null,
    });
    expect(toBody({ name: 'x', allowed_models: ['m1'], monthly_limit: 5 }).allowed_models).toEqual(['m1']);
    expect(usagePercent(250, 1000)).toBe(25);
    expect(usagePercent(5, null)).toBeNull();
  });
  it('builds a curl snippet with the placeholder token', () => {
    const s = curlSnippet('https://cinfer.example', 'm1');
    expect(s).toContain('Authorization: Bearer $CINFER_TOKEN');
    expect(s).toContain('https://cinfer.example/api/v1/models/m1/infer');
    expect(s).toContain('--data-binary @image.jpg');
  });
});

describe('TokensPage', () => {
  it('lists tokens with state badges, rendering names as text', async () => {
    const xss = '<img src=x onerror=alert(1)>';
    mockFetch({
      [`GET ${API}/tokens`]: { body: { items: [token(), token({ id: 't2', name: xss, is_active: false }),
        token({ id: 't3', name: 'old', expires_at: '2020-01-01T00:00:00Z' }), token({ id: 't4', name: 'full', used_count: 1000 })],
      total: 4, page: 1, page_size: 20 } },
      [`GET ${API}/models`]: { body: MODELS },
    });
    renderPage(<TokensPage />);
    expect((await screen.findByTestId('token-state-app')).textContent).toBe('Active');
    expect(screen.getByTestId(`token-state-${xss}`).textContent).toBe('Paused');
    expect(screen.getByTestId('token-state-old').textContent).toBe('Expired');
    expect(screen.getByTestId('token-state-full').textContent).toBe('Quota exceeded');
    expect(screen.getByText(xss).tagName).toBe('A');
    expect(document.querySelector('img')).toBeNull();
    expect(screen.getAllByText('42 / 1000').length).toBeGreaterThan(0);
  });

  it('refuses an invalid IP entry, then creates and shows the value once', async () => {
    const calls = mockFetch({
      [`GET ${API}/tokens`]: { body: { items: [], total: 0, page: 1, page_size: 20 } },
      [`GET ${API}/models`]: { body: MODELS },
      [`POST ${API}/tokens`]: { status: 201, body: { ...token({ name: 'mobile' }), token: 'cit_' + 'A'.repeat(43) } },
    });
    renderPage(<TokensPage />);
    const user = userEvent.setup();
    // after userEvent.setup(), which installs its own clipboard stub
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    await user.click(await screen.findByTestId('token-create'));
    fireEvent.change(await screen.findByTestId('token-name'), { target: { value: 'mobile' } });
    const ipInput = within(screen.getByTestId('token-ips')).getByRole('combobox');
    await user.type(ipInput, '10.0.0.300{enter}');
    expect((await screen.findByTestId('token-ip-error')).textContent).toContain('10.0.0.300');
    await user.click(screen.getByTestId('token-submit'));
    await new Promise((r) => setTimeout(r, 200));
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);
    // replace the bad entry with a valid CIDR
    await user.type(ipInput, '{backspace}10.0.0.0/8{enter}');
    await waitFor(() => expect(screen.queryByTestId('token-ip-error')).toBeNull());
    fireEvent.change(screen.getByTestId('token-monthly').querySelector('input') ?? screen.getByTestId('token-monthly'),
                     { target: { value: '500' } });
    await user.click(screen.getByTestId('token-submit'));
    const value = await screen.findByTestId('token-value');
    expect(value.textContent).toBe('cit_' + 'A'.repeat(43));
    const post = calls.find((c) => c.method === 'POST');
    expect(post?.body).toMatchObject({ name: 'mobile', ip_whitelist: ['10.0.0.0/8'], allowed_models: ['*'],
      monthly_limit: 500, rate_limit_per_minute: null, expires_at: null });
    await user.click(screen.getByTestId('token-copy'));
    expect(writeText).toHaveBeenCalledWith('cit_' + 'A'.repeat(43));
    expect(await screen.findByTestId('token-copied')).toBeTruthy();
  });

  it('pauses a token after confirmation', async () => {
    const calls = mockFetch({
      [`GET ${API}/tokens`]: { body: { items: [token()], total: 1, page: 1, page_size: 20 } },
      [`GET ${API}/models`]: { body: MODELS },
      [`POST ${API}/tokens/t1/pause`]: { body: token({ is_active: false }) },
    });
    renderPage(<TokensPage />);
    fireEvent.click(await screen.findByTestId('token-pause-app'));
    expect(calls.some((c) => c.url.pathname.endsWith('/pause'))).toBe(false);
    fireEvent.click(await screen.findByTestId('confirm-ok'));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.url.pathname === `${API}/tokens/t1/pause`)).toBe(true));
  });
});

describe('TokenDetailPage', () => {
  it('shows the fields, usage and snippets for an allowed model', async () => {
    const calls = mockFetch({
      [`GET ${API}/tokens/t1`]: { body: token({ allowed_models: ['m2'], remark: '<b>x</b>' }) },
      [`GET ${API}/tokens/t1/usage`]: { body: { token_id: 't1', from: '2026-10-31', to: '2026-11-29', total: 42, used_count: 42,
        usage_month: '2026-11', monthly_limit: 1000, days: [{ date: '2026-11-29', count: 42 }], models: [{ model_id: 'm2', count: 42 }] } },
      [`GET ${API}/models`]: { body: MODELS },
    });
    renderPage(<TokenDetailPage />, '/tokens/t1', '/tokens/:id');
    expect((await screen.findByTestId('token-detail-name')).textContent).toBe('app');
    expect(screen.getByText('<b>x</b>')).toBeTruthy();
    const curl = await screen.findByTestId('snippet-curl');
    expect(curl.textContent).toContain(`${window.location.origin}/api/v1/models/m2/infer`);
    expect(curl.textContent).toContain('$CINFER_TOKEN');
    expect(await screen.findByTestId('token-usage-days')).toBeTruthy();
    expect(calls.find((c) => c.url.pathname.endsWith('/usage'))?.url.searchParams.get('days')).toBe('30');
  });
});
