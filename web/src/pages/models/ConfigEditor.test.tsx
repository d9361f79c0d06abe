// The config editor keeps the form and the JSON text in sync, both ways.
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { Form } from 'antd';
import ConfigEditor from './ConfigEditor';
import type { ConfigFormValues, ModelConfig } from './configForm';
import '../../i18n';

vi.setConfig({ testTimeout: 30_000 });
afterEach(() => cleanup());

let last: ModelConfig | null | undefined;
function Harness({ initial }: { initial: ModelConfig }) {
  const [form] = Form.useForm<ConfigFormValues>();
  const [, set] = useState<ModelConfig | null>(initial);
  return <ConfigEditor form={form} initial={initial} onChange={(c) => { last = c; set(c); }} />;
}

function json(): HTMLTextAreaElement {
  return screen.getByTestId('config-json') as HTMLTextAreaElement;
}

describe('ConfigEditor', () => {
  it('writes form edits into the JSON and JSON edits into the form', async () => {
    render(<Harness initial={{ warmup_iterations: 3, input: { width: 10 }, output: { task: 'raw' } }} />);
    const width = screen.getByLabelText('Width') as HTMLInputElement;
    expect(width.value).toBe('10');
    fireEvent.change(width, { target: { value: '320' } });
    await waitFor(() => expect(JSON.parse(json().value).input.width).toBe(320));
    expect(JSON.parse(json().value).warmup_iterations).toBe(3);
    expect(last).toMatchObject({ input: { width: 320 } });

    const text = JSON.stringify({ input: { width: 77, height: 5 }, output: { task: 'detection', score_threshold: 0.7 } });
    await act(async () => { fireEvent.change(json(), { target: { value: text } }); });
    await waitFor(() => expect((screen.getByLabelText('Width') as HTMLInputElement).value).toBe('77'));
    expect((screen.getByLabelText('Score threshold') as HTMLInputElement).value).toBe('0.70');
    expect(last).toEqual(JSON.parse(text));
  });

  it('flags invalid JSON and reports no config', async () => {
    render(<Harness initial={{}} />);
    await act(async () => { fireEvent.change(json(), { target: { value: '{"input": ' } }); });
    expect(await screen.findByText(/Invalid JSON/)).toBeTruthy();
    expect(last).toBeNull();
    expect(json().value).toBe('{"input": ');
  });
});
