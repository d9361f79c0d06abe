// The model config (docs/MODEL_CONFIG.md) <-> the config form's values, as pure
// functions: the form edits `input` and the task fields of `output`; everything
// else in the config (input_shapes, engine_options, tensor names…) is kept as is.

export type ModelConfig = Record<string, unknown>;
export type Task = 'raw' | 'classification' | 'detection' | 'text_detection';
export const TASKS: Task[] = ['raw', 'classification', 'detection', 'text_detection'];
export const RESIZE_MODES = ['stretch', 'letterbox', 'center_crop'] as const;
export const COLORS = ['rgb', 'bgr'] as const;
export const SCALE_1_255 = 0.00392156862745098;

export interface ConfigFormValues {
  input: {
    width: number | null;
    height: number | null;
    resize: string;
    pad_value: number | null;
    color: string;
    scale: number | null;
    mean: number[];
    std: number[];
  };
  output: {
    task: Task;
    // classification
    labels: string; // one per line
    top_k: number | null;
    softmax: boolean;
    // detection
    layout: string;
    score_threshold: number | null;
    iou_threshold: number | null;
    max_detections: number | null;
    class_names: string; // one per line
    // text_detection
    binary_threshold: number | null;
    box_threshold: number | null;
    unclip_ratio: number | null;
    max_candidates: number | null;
    min_size: number | null;
  };
}

// The output fields each task allows besides `task` and `tensor`.
export const TASK_FIELDS: Record<Task, (keyof ConfigFormValues['output'])[]> = {
  raw: [],
  classification: ['labels', 'top_k', 'softmax'],
  detection: ['layout', 'score_threshold', 'iou_threshold', 'max_detections', 'class_names'],
  text_detection: ['binary_threshold', 'box_threshold', 'unclip_ratio', 'max_candidates', 'min_size'],
};
const INPUT_FIELDS: (keyof ConfigFormValues['input'])[] =
  ['width', 'height', 'resize', 'pad_value', 'color', 'scale', 'mean', 'std'];
const LIST_FIELDS = new Set(['labels', 'class_names']);

export const DEFAULT_FORM: ConfigFormValues = {
  input: { width: 0, height: 0, resize: 'stretch', pad_value: 114, color: 'rgb', scale: SCALE_1_255,
           mean: [0, 0, 0], std: [1, 1, 1] },
  output: {
    task: 'raw', labels: '', top_k: 5, softmax: false,
    layout: 'yolov8', score_threshold: 0.25, iou_threshold: 0.45, max_detections: 300, class_names: '',
    binary_threshold: 0.3, box_threshold: 0.6, unclip_ratio: 1.5, max_candidates: 1000, min_size: 3,
  },
};

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
function num(v: unknown, d: number | null): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : d;
}
function triple(v: unknown, d: number[]): number[] {
  return Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number') ? [...v] : [...d];
}
export function linesToList(text: string): string[] {
  return text.split('\n').map((s) => s.trim()).filter((s) => s.length > 0);
}
function listToLines(v: unknown): string {
  return Array.isArray(v) ? v.map(String).join('\n') : '';
}

// Config -> form values; what the config leaves out takes the documented default.
export function configToForm(config: ModelConfig): ConfigFormValues {
  const i = obj(config.input);
  const o = obj(config.output);
  const d = DEFAULT_FORM;
  const task = TASKS.includes(o.task as Task) ? (o.task as Task) : 'raw';
  return {
    input: {
      width: num(i.width, d.input.width), height: num(i.height, d.input.height),
      resize: typeof i.resize === 'string' ? i.resize : d.input.resize,
      pad_value: num(i.pad_value, d.input.pad_value),
      color: typeof i.color === 'string' ? i.color : d.input.color,
      scale: num(i.scale, d.input.scale),
      mean: triple(i.mean, d.input.mean), std: triple(i.std, d.input.std),
    },
    output: {
      ...d.output,
      task,
      labels: listToLines(o.labels), class_names: listToLines(o.class_names),
      top_k: num(o.top_k, d.output.top_k), softmax: typeof o.softmax === 'boolean' ? o.softmax : false,
      layout: typeof o.layout === 'string' ? o.layout : d.output.layout,
      score_threshold: num(o.score_threshold, d.output.score_threshold),
      iou_threshold: num(o.iou_threshold, d.output.iou_threshold),
      max_detections: num(o.max_detections, d.output.max_detections),
      binary_threshold: num(o.binary_threshold, d.output.binary_threshold),
      box_threshold: num(o.box_threshold, d.output.box_threshold),
      unclip_ratio: num(o.unclip_ratio, d.output.unclip_ratio),
      max_candidates: num(o.max_candidates, d.output.max_candidates),
      min_size: num(o.min_size, d.output.min_size),
    },
  };
}

// Form values -> config, on top of `base` (whose other fields are kept). `output`
// holds only `task`, the base's `tensor` and the chosen task's fields, as the
// server refuses fields of other tasks. Empty (null) numbers are left out.
export function formToConfig(values: ConfigFormValues, base: ModelConfig = {}): ModelConfig {
  const input: Record<string, unknown> = { ...obj(base.input) };
  for (const k of INPUT_FIELDS) {
    const v = values.input[k];
    if (v === null || v === undefined) delete input[k];
    else input[k] = Array.isArray(v) ? [...v] : v;
  }
  const baseOut = obj(base.output);
  const output: Record<string, unknown> = { task: values.output.task };
  if (typeof baseOut.tensor === 'string') output.tensor = baseOut.tensor;
  for (const k of TASK_FIELDS[values.output.task]) {
    const v = values.output[k];
    if (LIST_FIELDS.has(k)) output[k] = linesToList(String(v ?? ''));
    else if (v !== null && v !== undefined) output[k] = v;
  }
  return { ...base, input, output };
}

// A server-named config field ("input.mean", "output.labels[3]", "config.input.width")
// -> the name of the form item that edits it, or null when the form has none.
export function fieldToFormName(field: string | null | undefined): (string | number)[] | null {
  if (!field) return null;
  const parts = field.replace(/^config\./, '').replace(/\[\d+\]/g, '').split('.');
  if (parts.length !== 2) return null;
  const [section, key] = parts;
  if (section === 'input' && (INPUT_FIELDS as string[]).includes(key)) return ['input', key];
  if (section === 'output' && (key === 'task' || key in DEFAULT_FORM.output)) return ['output', key];
  return null;
}

export type PresetKey = 'classification' | 'yolov8' | 'ppocr_det' | 'ppocr_cls';
export const PRESET_KEYS: PresetKey[] = ['classification', 'yolov8', 'ppocr_det', 'ppocr_cls'];
const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

// Starting points, after the examples of docs/MODEL_CONFIG.md.
export const PRESETS: Record<PresetKey, ModelConfig> = {
  classification: {
    input: { width: 224, height: 224, resize: 'center_crop', color: 'rgb', scale: SCALE_1_255, ...IMAGENET },
    output: { task: 'classification', labels: [], top_k: 5, softmax: true },
  },
  yolov8: {
    input: { width: 640, height: 640, resize: 'letterbox', pad_value: 114, color: 'rgb', scale: SCALE_1_255 },
    output: { task: 'detection', layout: 'yolov8', score_threshold: 0.25, iou_threshold: 0.45,
              max_detections: 300, class_names: [] },
  },
  ppocr_det: {
    input_shapes: { x: [1, 3, 640, 640] },
    engine_options: { threads: 2 },
    input: { width: 640, height: 640, resize: 'stretch', color: 'bgr', scale: SCALE_1_255, ...IMAGENET },
    output: { task: 'text_detection', binary_threshold: 0.3, box_threshold: 0.6, unclip_ratio: 1.5 },
  },
  ppocr_cls: {
    input_shapes: { x: [1, 3, 48, 192] },
    warmup_iterations: 2,
    input: { width: 192, height: 48, resize: 'stretch', color: 'bgr', scale: SCALE_1_255,
             mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    output: { task: 'classification', labels: ['0', '180'], top_k: 2, softmax: false },
  },
};

// A deep copy of a preset, so that edits never change the table above.
export function presetConfig(key: PresetKey): ModelConfig {
  return JSON.parse(JSON.stringify(PRESETS[key])) as ModelConfig;
}

// Parses the advanced editor's text: the config object, or an error message.
export function parseConfigJson(text: string): { config: ModelConfig } | { error: string } {
  try {
    const v: unknown = JSON.parse(text);
    if (!v || typeof v !== 'object' || Array.isArray(v)) return { error: 'not an object' };
    return { config: v as ModelConfig };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

export function configToJson(config: ModelConfig): string {
  return JSON.stringify(config, null, 2);
}
