// The model page against a stubbed server: header as text, the 409 state-machine
// message, publish, polling while loading, a config save's 422 at its field,
// version upload with progress and roll back; versions' compatibility with the
// served one, and the modal before activating an incompatible version.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import ModelDetailPage from './ModelDetailPage';
import { renderAt, stubFetch, stubXhr, xhrLog } from './models/testUtils';

vi.setConfig({ testTimeout: 30_000 });
afterEach(() => cleanup());

function model(status: string) {
  return { id: 'm1', name: '<script>x</script>', description: '<b>desc</b>', engine: 'onnxruntime', status, status_reason: null,
           current_version: 1, served_version: status === 'published' ? 1 : null, versions: [],
           serving: status === 'published' ? { version: 1, state: 'ready', in_flight: 0, loaded_at: '2026-01-01T00:00:00.000Z', load_ms: 12, devices: ['cpu'],
             plan: { instances: 2, threads: 1, allow_spinning: false, rule: 'sized from 2 cores' } } : null,
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
    expect(screen.getByTestId('serving-plan').textContent).toBe('2 instances × 1 threads');
    expect(screen.getByTestId('serving-plan').getAttribute('title')).toBe('sized from 2 cores');
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

  it('uploads a new version with progress and rolls back to an older one', async () => {
    const posts: string[] = [];
    stubFetch((url, init) => {
      if (url.pathname.endsWith('/stats')) return { body: stats };
      if (url.pathname.endsWith('/versions') && !init?.method?.match(/POST/)) {
        return { body: { items: [1, 2].map((v) => ({ version: v, size_bytes: 2048, sha256: 'ab'.repeat(32), original_filename: `v${v}.onnx`,
          created_by: 'u', created_at: '2026-01-01T00:00:00.000Z', io_schema: {}, config: {} })) } };
      }
      if (url.pathname.endsWith('/activate')) { posts.push(url.pathname); return { body: { ...model('draft'), current_version: 1 } }; }
      if (url.pathname === '/api/v1/internal/models/m1') return { body: { ...model('draft'), current_version: 2 } };
      return undefined;
    });
    let answer = () => {};
    stubXhr(() => ({ status: 201, body: { version: 3 } }), new Promise<void>((r) => { answer = r; }));
    renderAt('/models/m1', '/models/:id', <ModelDetailPage />);
    fireEvent.click(await screen.findByRole('tab', { name: 'Versions' }));
    expect((await screen.findByText('v1.onnx'))).toBeTruthy();
    const input = (await screen.findByTestId('version-upload')).closest('span')!.parentElement!.querySelector('input[type=file]') as HTMLInputElement;
    const file = new File([new Uint8Array([1])], 'v3.onnx');
    await act(async () => { fireEvent.change(input, { target: { files: [file] } }); });
    const bar = await screen.findByTestId('version-upload-progress');
    await waitFor(() => expect(bar.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow')).toBe('100'));
    expect(xhrLog.at(-1)?.url).toBe('/api/v1/internal/models/m1/versions');
    expect((xhrLog.at(-1)?.body as FormData).get('file')).toBeInstanceOf(File);
    answer();
    await waitFor(() => expect(screen.queryByTestId('version-upload-progress')).toBeNull());
    expect(screen.getByTestId('version-activate-1').textContent).toBe('Roll back');
    expect((screen.getByTestId('version-activate-2') as HTMLButtonElement).disabled).toBe(true);
    await confirm('version-activate-1');
    await waitFor(() => expect(posts).toEqual(['/api/v1/internal/models/m1/versions/1/activate']));
  });
});

describe('ModelDetailPage versions compatibility', () => {
  const differences = ["input 'x' changes datatype FP32 -> INT32", "output 'y' changes datatype FP32 -> INT32"];
  const compat = (compatible: boolean) => ({ served_version: 1, compatible, differences: compatible ? [] : differences });
  // Served v1; v2 incompatible, v3 listed compatible. `refuse` makes the server
  // answer an activation without force with 409 INCOMPATIBLE_VERSION.
  function serve(refuse: Set<number>) {
    const activations: { version: number; body: unknown }[] = [];
    stubFetch((url, init) => {
      if (url.pathname.endsWith('/stats')) return { body: stats };
      if (url.pathname.endsWith('/versions') && init?.method !== 'POST') {
        return { body: { items: [1, 2, 3].map((v) => ({ version: v, size_bytes: 2048, sha256: 'ab'.repeat(32), original_filename: `v${v}.onnx`,
          created_by: 'u', created_at: '2026-01-01T00:00:00.000Z', io_schema: {}, config: {}, compatibility: compat(v !== 2) })) } };
      }
      const m = /\/versions\/(\d+)\/activate$/.exec(url.pathname);
      if (m && init?.method === 'POST') {
        const version = Number(m[1]);
        const body = init.body ? JSON.parse(String(init.body)) : undefined;
        activations.push({ version, body });
        if (refuse.has(version) && !body?.force) {
          return { status: 409, body: { error: { code: 'INCOMPATIBLE_VERSION', request_id: 'r',
            message: `version ${version} is not compatible with the served version 1: ${differences.join('; ')}`,
            details: { served_version: 1, version, differences } } } };
        }
        return { body: { ...model('published'), current_version: version, served_version: version } };
      }
      if (url.pathname === '/api/v1/internal/models/m1') return { body: model('published') };
      return undefined;
    });
    return activations;
  }
  async function openVersions() {
    renderAt('/models/m1', '/models/:id', <ModelDetailPage />);
    fireEvent.click(await screen.findByRole('tab', { name: 'Versions' }));
    await screen.findByText('v2.onnx');
  }
  const modalDifferences = async () =>
    [...(await screen.findByTestId('version-incompatible-differences')).querySelectorAll('li')].map((li) => li.textContent);

  it('tags the other versions compatible or incompatible, with the differences', async () => {
    serve(new Set([2]));
    await openVersions();
    expect(screen.queryByTestId('version-compat-1')).toBeNull(); // the served version itself
    expect(screen.getByTestId('version-compat-3').textContent).toBe('compatible');
    const tag = screen.getByTestId('version-compat-2');
    expect(tag.textContent).toBe('incompatible');
    fireEvent.mouseEnter(tag);
    const tip = await screen.findByTestId('version-differences-2');
    expect(tip.textContent).toContain('served version 1');
    expect([...tip.querySelectorAll('li')].map((li) => li.textContent)).toEqual(differences);
  });

  it('asks before activating a version listed incompatible, then sends force', async () => {
    const activations = serve(new Set([2]));
    await openVersions();
    fireEvent.click(screen.getByTestId('version-activate-2'));
    expect(await modalDifferences()).toEqual(differences);
    expect(screen.getByTestId('version-incompatible').textContent).toContain('clients built for version 1 will get errors');
    expect(screen.queryByRole('tooltip')).toBeNull(); // no popconfirm: the modal is the confirmation
    await new Promise((r) => setTimeout(r, 50));
    expect(activations).toEqual([]);
    fireEvent.click(screen.getByTestId('version-force-activate'));
    await waitFor(() => expect(activations).toEqual([{ version: 2, body: { force: true } }]));
    await screen.findByText('Version 2 is now current');
    await waitFor(() => expect(screen.queryByTestId('version-incompatible-differences')).toBeNull());
  });

  it('opens the modal on a 409 INCOMPATIBLE_VERSION for a version listed compatible', async () => {
    const activations = serve(new Set([3]));
    await openVersions();
    await confirm('version-activate-3');
    expect(await modalDifferences()).toEqual(differences);
    expect(activations).toEqual([{ version: 3, body: undefined }]);
    expect(screen.queryByTestId('model-action-error')).toBeNull();
    fireEvent.click(screen.getByTestId('version-force-activate'));
    await waitFor(() => expect(activations).toEqual([{ version: 3, body: undefined }, { version: 3, body: { force: true } }]));
    await screen.findByText('Version 3 is now current');
  });

  it('sends nothing when the switch is cancelled', async () => {
    const activations = serve(new Set([2, 3]));
    await openVersions();
    fireEvent.click(screen.getByTestId('version-activate-2'));
    expect(await modalDifferences()).toEqual(differences);
    fireEvent.click(screen.getByTestId('version-force-cancel'));
    await waitFor(() => expect(screen.queryByTestId('version-incompatible-differences')).toBeNull());
    await confirm('version-activate-3');
    await screen.findByTestId('version-incompatible-differences');
    fireEvent.click(screen.getByTestId('version-force-cancel'));
    await waitFor(() => expect(screen.queryByTestId('version-incompatible-differences')).toBeNull());
    await new Promise((r) => setTimeout(r, 50));
    expect(activations).toEqual([{ version: 3, body: undefined }]);
  });
});
