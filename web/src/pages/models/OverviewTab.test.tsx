// The Overview's serving block shows the version's state and each engine
// instance with its counters and last error (design §6.3).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, screen, within } from '@testing-library/react';
import OverviewTab from './OverviewTab';
import type { Model } from './types';
import { mockFetch, renderPage } from '../../testing';

vi.setConfig({ testTimeout: 30_000 });
afterEach(() => { cleanup(); vi.unstubAllGlobals(); });

const model: Model = {
  id: 'm1', name: 'ocr-cls', description: '', engine: 'onnxruntime', status: 'published',
  status_reason: null, current_version: 1, served_version: 1, versions: [],
  io_schema: { inputs: [], outputs: [] }, config: {}, created_by: 'admin',
  created_at: '2026-11-30T10:00:00Z', updated_at: '2026-11-30T10:00:00Z',
  serving: {
    version: 1, state: 'degraded', in_flight: 0, loaded_at: '2026-11-30T10:00:00Z', load_ms: 12.5,
    devices: ['cpu'], plan: { instances: 2, threads: 1, allow_spinning: false, rule: 'auto' },
    instances: [
      { id: 0, state: 'ready', runs: 40, failures: 0, consecutive_failures: 0, recoveries: 0, last_error: null },
      { id: 1, state: 'recovering', runs: 7, failures: 3, consecutive_failures: 3, recoveries: 1, last_error: 'device lost' },
    ],
  },
} as unknown as Model;

describe('OverviewTab serving', () => {
  it('shows a degraded version and the state and counters of every instance', async () => {
    mockFetch({ 'GET /api/v1/internal/models/m1/stats': { body: {
      requests: 0, errors: 0, error_rate: 0, latency_ms: { p50: 0, p99: 0 }, mean_batch_size: 0, errors_by_code: {},
    } } });
    renderPage(<OverviewTab model={model} />);
    expect(within(screen.getByTestId('serving-state')).getByText('degraded')).toBeTruthy();
    const rows = within(screen.getByTestId('serving-instances')).getAllByRole('row');
    expect(rows).toHaveLength(3);  // the header and two instances
    expect(within(rows[1]).getByText('ready')).toBeTruthy();
    expect(within(rows[1]).getByText('40')).toBeTruthy();
    expect(within(rows[2]).getByText('recovering')).toBeTruthy();
    expect(within(rows[2]).getByText('device lost')).toBeTruthy();
    expect(within(rows[2]).getAllByText('3')).toHaveLength(1);
  });
});
