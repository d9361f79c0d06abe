// Logs page: inference rows, server-side filters and paging, the audit tab and its
// error state, and the query builder.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import dayjs from 'dayjs';
import LogsPage from '../LogsPage';
import { API, err, mockFetch, renderPage } from '../../testing';
import { buildQuery, type InferenceLog } from './logsData';

vi.setConfig({ testTimeout: 30_000 });
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function row(i: number, over: Partial<InferenceLog> = {}): InferenceLog {
  return {
    id: `l${i}`, model_id: 'm1', model_version: 2, token_id: 't1', request_id: `r${i}`, client_ip: '10.0.0.7', route: 'infer',
    status: 'ok', http_status: 200, error_code: null, error_message: null,
    timing_ms: { queue: 0.1, preprocess: 0.5, infer: 1.2, postprocess: 0.1, total: 2.04 }, batch_size: 1,
    created_at: '2026-11-29T17:59:00Z', ...over,
  };
}
const BASE = {
  [`GET ${API}/models`]: { body: { items: [{ id: 'm1', name: 'cls' }], total: 1, page: 1, page_size: 100 } },
  [`GET ${API}/tokens`]: { body: { items: [{ id: 't1', name: 'mobile app' }], total: 1, page: 1, page_size: 100 } },
};

describe('buildQuery', () => {
  it('leaves out empty filters and sends the range as UTC ISO', () => {
    const q = buildQuery('logs', 2, 50, { model_id: 'm1', status: undefined, token_id: '' },
                         [dayjs('2026-11-29T10:00:00Z'), dayjs('2026-11-29T11:00:00Z')]);
    const u = new URL(q, 'http://x/');
    expect(u.pathname).toBe('/logs');
    expect(Object.fromEntries(u.searchParams)).toEqual({ page: '2', page_size: '50', model_id: 'm1',
      from: '2026-11-29T10:00:00.000Z', to: '2026-11-29T11:00:00.000Z' });
  });
});

describe('LogsPage', () => {
  it('shows inference rows with names, error codes, and pages on the server', async () => {
    const calls = mockFetch({ ...BASE, [`GET ${API}/logs`]: (url) => ({ body: {
      items: url.searchParams.get('page') === '2' ? [row(99)]
        : [row(1), row(2, { status: 'error', error_code: 'QUEUE_FULL', http_status: 503, model_version: null, token_id: null })],
      total: 120, page: Number(url.searchParams.get('page')), page_size: 50 } }) });
    renderPage(<LogsPage />, '/logs');
    await waitFor(() => expect(screen.getAllByTestId('log-row')).toHaveLength(2));
    const [r1, r2] = screen.getAllByTestId('log-row');
    await waitFor(() => expect(within(r1).getByText('mobile app')).toBeTruthy());
    expect(within(r1).getByText('cls')).toBeTruthy();
    expect(within(r1).getByText('v2')).toBeTruthy();
    expect(within(r1).getByText('2.0 ms')).toBeTruthy();
    expect(within(r2).getByText('QUEUE_FULL')).toBeTruthy();
    expect(screen.getByText('120 entries')).toBeTruthy();
    fireEvent.click(screen.getByTitle('2'));
    await waitFor(() => expect(screen.getAllByTestId('log-row')).toHaveLength(1));
    expect(calls.filter((c) => c.url.pathname === `${API}/logs`).at(-1)!.url.searchParams.get('page')).toBe('2');
  });

  it('filters by status', async () => {
    const calls = mockFetch({ ...BASE, [`GET ${API}/logs`]: { body: { items: [row(1)], total: 1, page: 1, page_size: 50 } } });
    renderPage(<LogsPage />, '/logs');
    await screen.findAllByTestId('log-row');
    fireEvent.mouseDown(within(screen.getByTestId('logs-filter-status')).getByRole('combobox'));
    fireEvent.click(await screen.findByTitle('Error'));
    await waitFor(() => expect(calls.filter((c) => c.url.pathname === `${API}/logs`).at(-1)!.url.searchParams.get('status')).toBe('error'));
  });

  it('shows the audit log', async () => {
    mockFetch({ ...BASE, [`GET ${API}/audit`]: { body: { items: [{ created_at: '2026-11-29T17:00:00Z', actor: 'admin',
      action: 'token.create', object_type: 'token', object_id: 't1', client_ip: '127.0.0.1', detail: { name: '<script>x</script>' } }],
    total: 1, page: 1, page_size: 50 } } });
    renderPage(<LogsPage />, '/logs?tab=audit');
    const rows = await screen.findAllByTestId('audit-row');
    expect(within(rows[0]).getByText('token.create')).toBeTruthy();
    expect(within(rows[0]).getByText('{"name":"<script>x</script>"}')).toBeTruthy();
  });

  it('reports a missing audit endpoint', async () => {
    mockFetch({ ...BASE, [`GET ${API}/audit`]: err(404, 'NOT_FOUND', 'no such route') });
    renderPage(<LogsPage />, '/logs?tab=audit');
    expect((await screen.findByTestId('audit-error')).textContent).toContain('no such route');
  });
});
