// Dashboard: system info and overview rendering, the 10 s refresh, a missing stats
// endpoint (404) shown as an Alert while the system cards still render.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, screen, waitFor } from '@testing-library/react';
import DashboardPage from '../DashboardPage';
import { API, err, mockFetch, renderPage } from '../../testing';
import { formatUptime, perMinute, usedPct, type Overview } from './dashboardData';

vi.mock('./EChart', () => ({ default: ({ testId }: { testId?: string }) => <div data-testid={testId} /> }));
vi.setConfig({ testTimeout: 30_000 });
afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const INFO = {
  version: '0.1.0', build: { commit: '986baf5', type: 'Release', compiler: 'GNU 13.2.0' }, uptime_s: 93784,
  engines: ['onnxruntime'], cpu: { count: 16, load_1m: 0.42, load_5m: 0.35, load_15m: 0.3 },
  memory: { total_mb: 128000, available_mb: 96000, process_rss_mb: 85 },
  disk: { data_dir: '/var/lib/cinfer', total_mb: 500000, free_mb: 320000 },
};
const OVERVIEW: Overview = {
  from: '2026-11-29T17:00:00Z', to: '2026-11-29T18:00:00Z', window_s: 3600, step_s: 60,
  totals: { requests: 1234, errors: 3, p50_ms: 2.1, p99_ms: 9.8 },
  series: [{ t: '2026-11-29T17:00:00Z', requests: 2, errors: 0, p50_ms: 2.0, p99_ms: 3.1 },
    { t: '2026-11-29T17:01:00Z', requests: 0, errors: 0, p50_ms: null, p99_ms: null }],
  models: [{ model_id: 'm1', name: '<img src=x onerror=alert(1)>', status: 'published', requests: 100, errors: 1, p50_ms: 2.0, p99_ms: 8.0 }],
  models_by_status: { draft: 1, published: 2 },
  top_tokens: [{ token_id: 't1', name: 'app', used_count: 42, monthly_limit: 1000 }],
};

describe('dashboard helpers', () => {
  it('formats uptime, percentages and per-minute rates', () => {
    expect(formatUptime(93784)).toBe('1d 2h 3m');
    expect(formatUptime(42)).toBe('42s');
    expect(usedPct(500000, 320000)).toBe(36);
    expect(usedPct(0, 0)).toBe(0);
    expect(perMinute(OVERVIEW.series, 30)).toEqual([4, 0]);
  });
});

describe('DashboardPage', () => {
  it('shows system info and the overview', async () => {
    mockFetch({ [`GET ${API}/system/info`]: { body: INFO }, [`GET ${API}/stats/overview`]: { body: OVERVIEW } });
    renderPage(<DashboardPage />);
    expect((await screen.findByTestId('dashboard-requests')).textContent).toBe('1234');
    expect(screen.getByTestId('dashboard-errors').textContent).toBe('3');
    expect(screen.getByTestId('dashboard-uptime').textContent).toContain('1d 2h 3m');
    expect(screen.getByText('0.1.0')).toBeTruthy();
    expect(screen.getByText('<img src=x onerror=alert(1)>')).toBeTruthy();
    expect(document.querySelector('img')).toBeNull();
    expect(screen.getByTestId('models-status-published').textContent).toBe('Published: 2');
    expect(screen.getByTestId('chart-latency')).toBeTruthy();
    expect(screen.getByText('app')).toBeTruthy();
  });

  it('keeps the system cards when the stats endpoint is missing', async () => {
    mockFetch({ [`GET ${API}/system/info`]: { body: INFO },
      [`GET ${API}/stats/overview`]: err(404, 'NOT_FOUND', 'no such route') });
    renderPage(<DashboardPage />);
    expect((await screen.findByTestId('dashboard-stats-error')).textContent).toContain('no such route');
    expect(screen.getByText('0.1.0')).toBeTruthy();
    expect(screen.queryByTestId('dashboard-requests')).toBeNull();
  });

  it('refreshes every 10 seconds', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let n = 0;
    const calls = mockFetch({ [`GET ${API}/system/info`]: { body: INFO },
      [`GET ${API}/stats/overview`]: () => ({ body: { ...OVERVIEW, totals: { ...OVERVIEW.totals, requests: ++n * 10 } } }) });
    renderPage(<DashboardPage />);
    expect((await screen.findByTestId('dashboard-requests')).textContent).toBe('10');
    const q = calls.find((c) => c.url.pathname.endsWith('overview'))!.url.searchParams;
    expect([q.get('window_s'), q.get('step_s')]).toEqual(['3600', '60']);
    await act(async () => { vi.advanceTimersByTime(10_500); });
    await waitFor(() => expect(screen.getByTestId('dashboard-requests').textContent).toBe('20'));
  });
});
