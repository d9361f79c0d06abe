// The config form's pure conversions, and the presets against docs/MODEL_CONFIG.md.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  configToForm, DEFAULT_FORM, fieldToFormName, formToConfig, parseConfigJson, PRESET_KEYS, presetConfig,
  type ConfigFormValues, type ModelConfig,
} from './configForm';

const doc = readFileSync(resolve(process.cwd(), '../docs/MODEL_CONFIG.md'), 'utf8');
const examples = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]) as ModelConfig);
// Every field name the doc's tables list (first column, backticked).
const documented = new Set(
  [...doc.matchAll(/^\| ([^|]+)\|/gm)].flatMap((m) => [...m[1].matchAll(/`([\w.]+)`/g)].map((x) => x[1])));

function isSubset(part: unknown, whole: unknown): boolean {
  if (part && typeof part === 'object' && !Array.isArray(part)) {
    if (!whole || typeof whole !== 'object') return false;
    return Object.entries(part).every(([k, v]) => isSubset(v, (whole as Record<string, unknown>)[k]));
  }
  return JSON.stringify(part) === JSON.stringify(whole);
}

describe('configForm', () => {
  it('round-trips form -> config -> form', () => {
    const v: ConfigFormValues = structuredClone(DEFAULT_FORM);
    v.input = { ...v.input, width: 320, height: 240, resize: 'letterbox', color: 'bgr', mean: [1, 2, 3], std: [4, 5, 6] };
    v.output = { ...v.output, task: 'detection', score_threshold: 0.5, class_names: 'cat\ndog' };
    const config = formToConfig(v);
    expect(config.output).toEqual({ task: 'detection', layout: 'yolov8', score_threshold: 0.5,
      iou_threshold: 0.45, max_detections: 300, class_names: ['cat', 'dog'] });
    expect(configToForm(config)).toEqual(v);
  });

  it('keeps fields the form does not edit and drops other tasks\' fields', () => {
    const base = { input_shapes: { x: [1, 3, 48, 192] }, warmup_iterations: 2,
      input: { tensor: 'x', layout: 'nchw', width: 192 }, output: { task: 'detection', tensor: 'out', iou_threshold: 0.3 } };
    const v = configToForm(base);
    v.output.task = 'classification';
    v.output.labels = ' a \n\nb\n';
    const c = formToConfig(v, base);
    expect(c.input_shapes).toEqual({ x: [1, 3, 48, 192] });
    expect(c.warmup_iterations).toBe(2);
    expect(c.input).toMatchObject({ tensor: 'x', layout: 'nchw', width: 192 });
    expect(c.output).toEqual({ task: 'classification', tensor: 'out', labels: ['a', 'b'], top_k: 5, softmax: false });
  });

  it('leaves out cleared numbers so the server default applies', () => {
    const v = structuredClone(DEFAULT_FORM);
    v.input.width = null;
    expect(formToConfig(v, { input: { width: 10 } }).input).not.toHaveProperty('width');
  });

  it('presets round-trip through the form unchanged', () => {
    for (const k of PRESET_KEYS) {
      const c = presetConfig(k);
      expect(isSubset(c, formToConfig(configToForm(c), c)), k).toBe(true);
    }
  });

  it('presets use only documented field names', () => {
    for (const k of PRESET_KEYS) {
      const c = presetConfig(k);
      for (const [top, v] of Object.entries(c)) {
        if (top === 'input' || top === 'output') {
          for (const f of Object.keys(v as object)) expect(documented.has(f), `${k}: ${top}.${f}`).toBe(true);
        } else if (top === 'engine_options') {
          for (const f of Object.keys(v as object)) expect(documented.has(`${top}.${f}`), f).toBe(true);
        } else expect(documented.has(top), `${k}: ${top}`).toBe(true);
      }
    }
  });

  it('presets contain the doc\'s example configs', () => {
    expect(examples).toHaveLength(3);
    const [cls, det, yolo] = examples;
    expect(isSubset(cls, presetConfig('ppocr_cls'))).toBe(true);
    expect(isSubset(det, presetConfig('ppocr_det'))).toBe(true);
    const yoloNoNames = { ...yolo, output: { ...(yolo.output as object), class_names: [] } };
    expect(isSubset(yoloNoNames, presetConfig('yolov8'))).toBe(true);
    expect(presetConfig('ppocr_cls').output).toEqual({ task: 'classification', labels: ['0', '180'], top_k: 2, softmax: false });
  });

  it('maps server field paths to form items', () => {
    expect(fieldToFormName('input.mean')).toEqual(['input', 'mean']);
    expect(fieldToFormName('input.mean[1]')).toEqual(['input', 'mean']);
    expect(fieldToFormName('output.score_threshold')).toEqual(['output', 'score_threshold']);
    expect(fieldToFormName('config.output.labels[2]')).toEqual(['output', 'labels']);
    expect(fieldToFormName('engine_options.gpu')).toBeNull();
    expect(fieldToFormName('input_shapes')).toBeNull();
    expect(fieldToFormName(null)).toBeNull();
  });

  it('parses JSON text', () => {
    expect(parseConfigJson('{"input": {"width": 3}}')).toEqual({ config: { input: { width: 3 } } });
    expect(parseConfigJson('{bad')).toHaveProperty('error');
    expect(parseConfigJson('[1]')).toHaveProperty('error');
  });
});
