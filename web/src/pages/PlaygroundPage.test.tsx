// The playground against a stubbed server: the multipart request, the drawn
// boxes and regions, the top-k list, errors, and the debounced re-run.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import PlaygroundPage from './PlaygroundPage';
import { renderAt, stubFetch } from './models/testUtils';

vi.setConfig({ testTimeout: 30_000 });

function model(task: string, extra: Record<string, unknown> = {}) {
  return { id: 'm1', name: '<b>det</b>', description: '', engine: 'onnxruntime', status: 'published', status_reason: null,
           current_version: 1, served_version: 1, versions: [], serving: null, io_schema: {},
           config: { input: {}, output: { task, ...extra } }, created_at: '', updated_at: '' };
}

let answer: { status: number; body: unknown };
let sent: FormData[] = [];
function serve(task: string, extra?: Record<string, unknown>) {
  sent = [];
  return stubFetch((url, init) => {
    if (url.pathname === '/api/v1/internal/models/m1') return { body: model(task, extra) };
    if (url.pathname === '/api/v1/internal/models/m1/test' && init?.method === 'POST') {
      sent.push(init.body as FormData);
      return answer;
    }
    return undefined;
  });
}

async function chooseAndRun() {
  const input = (await screen.findByTestId('playground-file')) as HTMLInputElement;
  const file = new File([new Uint8Array([0xff, 0xd8, 0xff])], 'rocket.jpg', { type: 'image/jpeg' });
  await act(async () => { fireEvent.change(input, { target: { files: [file] } }); });
  await waitFor(() => expect((screen.getByTestId('playground-run') as HTMLButtonElement).disabled).toBe(false));
  fireEvent.click(screen.getByTestId('playground-run'));
}

beforeEach(() => {
  vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: () => 'blob:x', revokeObjectURL: () => {} }));
});
afterEach(() => cleanup());

describe('PlaygroundPage', () => {
  it('runs detection and draws labelled boxes in image pixels', async () => {
    serve('detection', { score_threshold: 0.3, iou_threshold: 0.5 });
    answer = { status: 200, body: {
      task: 'detection', model_version: 1, source: 'serving', image: { width: 800, height: 600 },
      detections: [{ box: { x1: 10, y1: 20, x2: 110, y2: 220 }, score: 0.91, class_id: 0, label: '<img src=x>' }],
      timing_ms: { decode: 1, preprocess: 2, queue: 0.5, infer: 10, postprocess: 1, total: 14.5 } } };
    renderAt('/models/m1/playground', '/models/:id/playground', <PlaygroundPage />);
    expect((await screen.findByTestId('pg-model-name')).textContent).toBe('<b>det</b>');
    await chooseAndRun();
    const box = await screen.findByTestId('pg-box');
    expect([box.getAttribute('x'), box.getAttribute('y'), box.getAttribute('width'), box.getAttribute('height')])
      .toEqual(['10', '20', '100', '200']);
    expect(screen.getByTestId('pg-overlay').getAttribute('viewBox')).toBe('0 0 800 600');
    expect(screen.getByTestId('pg-box-label').textContent).toBe('<img src=x> 91.0%');
    expect(sent[0].get('image')).toBeInstanceOf(File);
    expect(sent[0].get('score_threshold')).toBe('0.3');
    expect(sent[0].get('iou_threshold')).toBe('0.5');
    expect(screen.getByTestId('pg-timing').textContent).toContain('Inference');
    fireEvent.click(screen.getByText('Response JSON'));
    expect((await screen.findByTestId('pg-json')).textContent).toContain('"total": 14.5');
  });

  it('re-runs once, debounced, when a threshold changes', async () => {
    serve('detection');
    answer = { status: 200, body: { task: 'detection', detections: [], image: { width: 10, height: 10 } } };
    renderAt('/models/m1/playground', '/models/:id/playground', <PlaygroundPage />);
    await chooseAndRun();
    await waitFor(() => expect(sent).toHaveLength(1));
    const handle = screen.getAllByRole('slider')[0];
    fireEvent.keyDown(handle, { key: 'ArrowRight', keyCode: 39 });
    fireEvent.keyDown(handle, { key: 'ArrowRight', keyCode: 39 });
    await waitFor(() => expect(sent).toHaveLength(2), { timeout: 8000 });
    expect(sent[1].get('score_threshold')).toBe('0.27');
    await new Promise((r) => setTimeout(r, 600));
    expect(sent).toHaveLength(2);
  });

  it('shows text regions and the classification top-k', async () => {
    serve('text_detection');
    answer = { status: 200, body: { task: 'text_detection', image: { width: 100, height: 50 },
      regions: [{ polygon: [[1, 2], [30, 2], [30, 12], [1, 12]], score: 0.8 }] } };
    renderAt('/models/m1/playground', '/models/:id/playground', <PlaygroundPage />);
    await chooseAndRun();
    expect((await screen.findByTestId('pg-region')).getAttribute('points')).toBe('1,2 30,2 30,12 1,12');
    cleanup();
    serve('classification', { top_k: 2 });
    answer = { status: 200, body: { task: 'classification', classes: [{ index: 0, label: '0', score: 0.975 }, { index: 1, label: '180', score: 0.025 }] } };
    renderAt('/models/m1/playground', '/models/:id/playground', <PlaygroundPage />);
    await chooseAndRun();
    await waitFor(() => expect(screen.getAllByTestId('pg-class')).toHaveLength(2));
    expect(screen.getAllByTestId('pg-class-score').map((e) => e.textContent)).toEqual(['97.5%', '2.5%']);
    expect(sent[0].get('top_k')).toBe('2');
  });

  it('shows server errors', async () => {
    serve('detection');
    answer = { status: 415, body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'image format not supported', request_id: 'r' } } };
    renderAt('/models/m1/playground', '/models/:id/playground', <PlaygroundPage />);
    await chooseAndRun();
    expect((await screen.findByTestId('playground-error')).textContent).toContain('image format not supported');
  });
});
