// The models list against a stubbed server: badges, names as text, upload errors
// shown at the config field the server names.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import ModelsPage from './ModelsPage';
import { renderAt, stubFetch, stubXhr, xhrLog } from './models/testUtils';

const XSS = '<img src=x onerror=alert(1)>';
function model(id: string, name: string, status: string) {
  return { id, name, description: '', engine: 'onnxruntime', status, status_reason: null, current_version: 2,
           served_version: status === 'published' ? 2 : null, versions: [], serving: null, io_schema: {},
           config: {}, created_by: 'u', created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-02T00:00:00.000Z' };
}

function serve() {
  return stubFetch((url) => {
    if (url.pathname.endsWith('/system/info')) return { body: { engines: ['onnxruntime', 'opencv'] } };
    if (url.pathname.endsWith('/models')) {
      const items = [model('a', XSS, 'published'), model('b', 'ocr-cls', 'failed'), model('c', 'det', 'draft')]
        .filter((m) => !url.searchParams.get('status') || m.status === url.searchParams.get('status'));
      return { body: { items, total: 45, page: Number(url.searchParams.get('page')), page_size: 20 } };
    }
    return undefined;
  });
}

// Opens the upload dialog on the models page and chooses cls.onnx; returns the dialog
// once the name has followed from the file.
async function openUploadWithFile() {
  renderAt('/models', '/models', <ModelsPage />);
  fireEvent.click(await screen.findByTestId('model-upload'));
  const dialog = await screen.findByRole('dialog');
  const input = dialog.querySelector('input[type=file]') as HTMLInputElement;
  const file = new File([new Uint8Array([1, 2, 3])], 'cls.onnx', { type: 'application/octet-stream' });
  await act(async () => { fireEvent.change(input, { target: { files: [file] } }); });
  // The name and the engine follow from the file.
  await waitFor(() => expect((screen.getByTestId('upload-name') as HTMLInputElement).value).toBe('cls'));
  return dialog;
}

vi.setConfig({ testTimeout: 30_000 });

afterEach(() => {
  cleanup();
  xhrLog.length = 0;
});

describe('ModelsPage', () => {
  it('lists models with status badges, names as text and server paging', async () => {
    const fetch = serve();
    const { container } = renderAt('/models', '/models', <ModelsPage />);
    const link = await screen.findByRole('link', { name: XSS });
    expect(link.textContent).toBe(XSS);
    expect(link.getAttribute('href')).toBe('/models/a');
    expect(container.querySelector('img')).toBeNull();
    const badges = screen.getAllByTestId('model-status');
    expect(badges.map((b) => [b.dataset.status, b.textContent])).toEqual(
      [['published', 'Published'], ['failed', 'Failed'], ['draft', 'Draft']]);
    expect(badges[0].className).toMatch(/success/);
    expect(badges[1].className).toMatch(/error/);
    expect(screen.getByText('v2 / 2')).toBeTruthy();
    // 45 items at 20 a page: three pages; page 3 asks the server for page=3.
    fireEvent.click(screen.getByTitle('3'));
    await waitFor(() => expect(fetch.mock.calls.some(([u]) => String(u).includes('page=3'))).toBe(true));
  });

  it('sends name search to the server', async () => {
    const fetch = serve();
    renderAt('/models', '/models', <ModelsPage />);
    await screen.findByRole('link', { name: 'det' });
    const search = screen.getByPlaceholderText('Search by name');
    fireEvent.change(search, { target: { value: 'ocr' } });
    fireEvent.keyDown(search, { key: 'Enter', code: 'Enter', keyCode: 13 });
    await waitFor(() => expect(fetch.mock.calls.some(([u]) => String(u).includes('name=ocr'))).toBe(true));
  });

  it('uploads with progress and shows a 422 at the config field it names', async () => {
    serve();
    let answer = () => {};
    stubXhr(() => ({ status: 422, body: { error: { code: 'VALIDATION_FAILED', request_id: 'r',
      message: "config field 'input.mean' must be a list of 3 numbers", details: { field: 'input.mean' } } } }),
      new Promise<void>((r) => { answer = r; }));
    const dialog = await openUploadWithFile();
    fireEvent.click(screen.getByTestId('upload-submit'));
    // 100 % uploaded, then "validating" until the server answers.
    await screen.findByTestId('upload-validating');
    const bar = screen.getByTestId('upload-progress');
    expect(bar.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow')).toBe('100');
    answer();
    await waitFor(() => expect(screen.getByTestId('upload-error').textContent).toContain("'input.mean'"));
    const sent = xhrLog[0];
    expect(sent.url).toBe('/api/v1/internal/models');
    const form = sent.body as FormData;
    expect(form.get('name')).toBe('cls');
    expect(form.get('engine')).toBe('onnxruntime');
    expect(JSON.parse(String(form.get('config')))).toHaveProperty('input.mean');
    // The message sits under the Mean form item.
    const meanItem = within(dialog).getByText('Mean').closest('.ant-form-item') as HTMLElement;
    await waitFor(() => expect(meanItem.textContent).toContain('must be a list of 3 numbers'));
  });

  it('shows 100 % even when the upload ends in the same task as the answer', async () => {
    serve();
    stubXhr(() => ({ status: 201, body: model('n', 'cls', 'draft') }), Promise.resolve(), true);
    await openUploadWithFile();
    // Every value the bar shows, however briefly (the e2e suite watches the same way).
    const seen: string[] = [];
    const grab = () => {
      const v = document.querySelector('[data-testid="upload-progress"] [role=progressbar]')?.getAttribute('aria-valuenow');
      if (v != null && seen[seen.length - 1] !== v) seen.push(v);
    };
    const observer = new MutationObserver(grab);
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
    fireEvent.click(screen.getByTestId('upload-submit'));
    await waitFor(() => expect(xhrLog).toHaveLength(1));
    await waitFor(() => expect(screen.queryByTestId('upload-progress')).toBeNull());
    observer.disconnect();
    expect(seen[seen.length - 1]).toBe('100');
  });
});
