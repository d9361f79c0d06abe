// Types and REST calls of the model admin API (api/openapi.yaml, tag Models).
import { del, get, patch, post, upload } from '../../api/client';
import type { ModelConfig } from './configForm';

export type ModelStatus = 'draft' | 'loading' | 'published' | 'draining' | 'unpublished' | 'failed';
export const MODEL_STATUSES: ModelStatus[] = ['draft', 'loading', 'published', 'draining', 'unpublished', 'failed'];
// The list endpoint filters on these only.
export const FILTER_STATUSES: ModelStatus[] = ['draft', 'published', 'unpublished', 'failed'];
// While a model is in one of these, its page polls it.
export const TRANSITIONAL = new Set<string>(['loading', 'draining', 'validating']);
export const ENGINES = ['onnxruntime', 'openvino', 'libtorch', 'opencv'] as const;

export interface TensorSpec {
  name: string;
  datatype: string;
  shape: number[] | null;
}
export interface IoSchema {
  inputs?: TensorSpec[];
  outputs?: TensorSpec[];
}
export interface ModelVersion {
  version: number;
  size_bytes: number;
  sha256: string;
  original_filename: string;
  created_by: string;
  created_at: string;
}
// In the versions list: whether clients of the served version keep working on
// a version (null when the model is not served).
export interface VersionCompatibility {
  served_version: number;
  compatible: boolean;
  differences: string[];
}
export interface ModelVersionDetail extends ModelVersion {
  io_schema: IoSchema;
  config: ModelConfig;
  compatibility?: VersionCompatibility | null;
}
// One engine instance (worker) of the served version (design §6.3).
export interface EngineInstance {
  id: number;
  state: 'initialising' | 'ready' | 'busy' | 'error' | 'recovering' | 'stopped';
  runs: number;
  failures: number;
  consecutive_failures: number;
  recoveries: number;
  last_error: string | null;
}
export interface Serving {
  version: number;
  // degraded: some instances are out of service; unavailable: none serves
  state: 'ready' | 'degraded' | 'unavailable';
  instances?: EngineInstance[];
  in_flight: number;
  loaded_at: string;
  load_ms: number;
  devices: string[];
  fallback_reason?: string;
  // instances × threads it runs with; what the config left at 0 is sized from the cores
  plan?: { instances: number; threads: number; allow_spinning: boolean; rule: string };
}
export interface Model {
  id: string;
  name: string;
  description: string;
  engine: string;
  status: ModelStatus | string;
  status_reason: string | null;
  current_version: number;
  served_version: number | null;
  versions: ModelVersion[];
  serving: Serving | null;
  io_schema: IoSchema;
  config: ModelConfig;
  created_at: string;
  updated_at: string;
}
export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  page_size: number;
}
export interface ModelStats {
  requests: number;
  errors: number;
  error_rate: number;
  latency_ms: { p50: number; p90: number; p99: number; mean: number; max: number };
  mean_batch_size: number;
  errors_by_code: Record<string, number>;
}
export interface ListQuery {
  page: number;
  pageSize: number;
  name?: string;
  status?: string;
}

export function listModels(q: ListQuery): Promise<Page<Model>> {
  const p = new URLSearchParams({ page: String(q.page), page_size: String(q.pageSize) });
  if (q.name) p.set('name', q.name);
  if (q.status) p.set('status', q.status);
  return get<Page<Model>>(`models?${p.toString()}`);
}

const path = (id: string) => `models/${encodeURIComponent(id)}`;
export const getModel = (id: string) => get<Model>(path(id));
export const getVersions = (id: string) => get<{ items: ModelVersionDetail[] }>(`${path(id)}/versions`);
export const getStats = (id: string) => get<ModelStats>(`${path(id)}/stats`);
export const patchModel = (id: string, body: { name?: string; description?: string; config?: ModelConfig }) =>
  patch<Model>(path(id), body);
export const publishModel = (id: string) => post<Model>(`${path(id)}/publish`);
export const unpublishModel = (id: string) => post<Model>(`${path(id)}/unpublish`);
export const deleteModel = (id: string) => del<void>(path(id));
// `force` switches even when the version's inputs or outputs differ from the
// served version's (otherwise 409 INCOMPATIBLE_VERSION).
export const activateVersion = (id: string, v: number, force = false) =>
  post<Model>(`${path(id)}/versions/${v}/activate`, force ? { force: true } : undefined);

export function uploadModel(form: FormData, onProgress: (f: number) => void): Promise<Model> {
  return upload<Model>('models', form, onProgress);
}
export function uploadVersion(id: string, form: FormData, onProgress: (f: number) => void) {
  return upload<ModelVersionDetail>(`${path(id)}/versions`, form, onProgress);
}
export const getSystemEngines = () => get<{ engines: string[] }>('system/info').then((r) => r.engines);

// The engine a file name suggests, or undefined to let the server sniff the content.
export function engineForFile(name: string): string | undefined {
  const n = name.toLowerCase();
  if (n.endsWith('.onnx')) return 'onnxruntime';
  if (n.endsWith('.pt') || n.endsWith('.pth') || n.endsWith('.torchscript')) return 'libtorch';
  if (n.endsWith('.xml') || n.endsWith('.pdmodel')) return 'openvino';
  return undefined;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
