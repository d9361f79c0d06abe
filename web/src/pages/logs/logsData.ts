// Types of the log endpoints and the query-string builder shared by both tabs.
import type { Dayjs } from 'dayjs';

export interface InferenceLog {
  id: string;
  model_id: string;
  model_version: number | null;
  token_id: string | null;
  request_id: string;
  client_ip: string;
  route: string;
  status: 'ok' | 'error';
  http_status: number;
  error_code: string | null;
  error_message: string | null;
  timing_ms: { queue: number; preprocess: number; infer: number; postprocess: number; total: number };
  batch_size: number;
  created_at: string;
}

export interface AuditEntry {
  created_at: string;
  actor: string | null;
  action: string;
  object_type: string | null;
  object_id: string | null;
  client_ip: string | null;
  detail: Record<string, unknown> | null;
}

export type Range = [Dayjs | null, Dayjs | null] | null | undefined;

/**
 * `path?page=&page_size=&<filters>&from=&to=`: empty filters are left out; the range
 * becomes ISO-8601 UTC `from` (inclusive) and `to` (exclusive).
 */
export function buildQuery(path: string, page: number, pageSize: number,
                           filters: Record<string, string | undefined>, range: Range): string {
  const q = new URLSearchParams({ page: String(page), page_size: String(pageSize) });
  for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
  if (range?.[0]) q.set('from', range[0].toISOString());
  if (range?.[1]) q.set('to', range[1].toISOString());
  return `${path}?${q}`;
}
