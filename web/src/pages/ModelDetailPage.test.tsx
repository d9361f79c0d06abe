// The model page against a stubbed server: header as text, the 409 state-machine
// message, publish, polling while loading, and a config save's 422 at its field.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import ModelDetailPage from './ModelDetailPage';
import { renderAt, stubFetch } from './models/testUtils';

vi.setConfig({ testTimeout: 30_000 });
afterEach(() => cleanup());

function model(status: string) {
  return { id: 'm1', name: '<script>x</script>', description: '<b>desc</b>', engine: 'onnxruntime', status, status_reason: null,
           current_version: 1, served_version: status === 'published' ? 1 : null, versions: [],
           serving: status === 'published' ? { version: 1, state: 'ready', in_flight: 0, loaded_at: '2026-01-01T00:00:00.000Z', load_ms: 12, devices: ['cpu'] } : null,
           io_schema: { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, 48, 192] }], outputs: [] },
           config: { input: { width: 192 }, output: { task: 'classification', labels: ['0', '180'] } },
           created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' };
}
const stats = { requests: 3, errors: 0, error_rate: 0, latency_ms: { p50: 1, p90: 2, p99: 3, mean: 1, max: 3 }, mean_batch_size: 1, errors_by_code: {} };

async function confirm(testId: string) {
  fireEvent.click(await screen.findByTestId(testId));
  const pop = await screen.findByRole('tooltip');
  fireEvent.click(within(pop).getAllByRole('button').pop()!);
}

describe('ModelDetailPage', () => {
  it('shows the header as text and the 409 reason of a refused delete', async () => {
    stubFetch((url, init) => {
      if (url.pathname.endsWith('/stats')) return { body: stats };
      if (url.pathname === '/api/v1/internal/models/m1' && init?.method === 'DELETE') {
        return { status: 409, body: { error: { code: 'MODEL_STATE_CONFLICT', message: "cannot delete a model in state 'published'", request_id: 'r', details: { state: 'published' } } } };
      }
      if (url.pathname === '/api/v1/internal/models/m1') return { body: model('published') };
      return undefined;
    });
    const { container } = renderAt('/models/m1', '/models/:id', <ModelDetailPage />);
    expect((await screen.findByTestId('model-name')).textContent).toBe('<script>x</script>');
    expect(screen.getByText('<b>desc</b>')).toBeTruthy();
    expect(container.querySelector('script, b')).toBeNull();
    expect(screen.getByTestId('model-serving').textContent).toContain('ready');
    expect(screen.getByTestId('model-playground').getAttribute('href')).toBe('/models/m1/playground');
    await confirm('model-delete');
    const alert = await screen.findByTestId('model-action-error');
    expect(alert.textContent).toContain("cannot delete a model in state 'published'");
    expect(alert.textContent).toContain('Published');
  });

  it('publishes, polling while the model is loading', async () => {
    let gets = 0;
    let published = false;
    stubFetch((url, init) => {
      if (url.pathname.endsWith('/stats')) return { body: stats };
      if (url.pathname.endsWith('/publish') && init?.method === 'POST') { published = true; return { body: model('loading') }; }
      if (url.pathname === '/api/v1/internal/models/m1') {
        gets += 1;
        return { body: model(published && gets > 2 ? 'published' : published ? 'loading' : 'draft') };
      }
      return undefined;
    });
    renderAt('/models/m1', '/models/:id', <ModelDetailPage />);
    expect((await screen.findByTestId('model-status')).dataset.status).toBe('draft');
    await confirm('model-publish');
    await waitFor(() => expect(screen.getByTestId('model-status').dataset.status).toBe('loading'));
    await waitFor(() => expect(screen.getByTestId('model-status').dataset.status).toBe('published'), { timeout: 8000 });
  });

  it('shows a config save\'s 422 at the field', async () => {
    stubFetch((url, init) => {
      if (url.pathname.endsWith('/stats')) return { body: stats };
      if (url.pathname === '/api/v1/internal/models/m1' && init?.method === 'PATCH') {
        const body = JSON.parse(String(init.body));
        expect(body.config.output.labels).toEqual(['0', '180']);
        return { status: 422, body: { error: { code: 'VALIDATION_FAILED', message: "config field 'output.top_k' must be an integer between 1 and 1000", request_id: 'r', details: { field: 'output.top_k' } } } };
      }
      if (url.pathname === '/api/v1/internal/models/m1') return { body: model('draft') };
      return undefined;
    });
    renderAt('/models/m1', '/models/:id', <ModelDetailPage />);
    fireEvent.click(await screen.findByRole('tab', { name: 'Config' }));
    fireEvent.click(await screen.findByTestId('config-save'));
    await screen.findByTestId('config-error');
    const item = screen.getByLabelText('Top K').closest('.ant-form-item') as HTMLElement;
    await waitFor(() => expect(item.textContent).toContain('must be an integer between 1 and 1000'));
  });
});
