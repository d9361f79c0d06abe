// Types of the dashboard's endpoints (system/info and the stats overview) and pure
// helpers that turn them into display values and ECharts options.
export interface SystemInfo {
  version: string;
  build: { commit: string; type: string; compiler: string };
  uptime_s: number;
  engines: string[];
  cpu: { count: number; load_1m: number; load_5m: number; load_15m: number };
  memory: { total_mb: number; available_mb: number; process_rss_mb: number };
  disk: { data_dir: string; total_mb: number; free_mb: number };
}

export interface StatPoint {
  t: string;
  requests: number;
  errors: number;
  p50_ms: number | null;
  p99_ms: number | null;
}

export interface ModelRow {
  model_id: string;
  name: string;
  status: string;
  requests: number;
  errors: number;
  p50_ms: number | null;
  p99_ms: number | null;
}

export interface TopToken {
  token_id: string;
  name: string;
  used_count: number;
  monthly_limit: number | null;
}

export interface Overview {
  from: string;
  to: string;
  window_s: number;
  step_s: number;
  totals: { requests: number; errors: number; p50_ms: number | null; p99_ms: number | null };
  series: StatPoint[];
  models: ModelRow[];
  models_by_status: Record<string, number>;
  top_tokens: TopToken[];
}

/** "3d 4h 5m" style uptime (seconds under a minute: "42s"). */
export function formatUptime(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h ${m}m`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m`;
  return `${Math.floor(s)}s`;
}

/** Percentage used of a total (0 when the total is 0), one decimal. */
export function usedPct(total: number, free: number): number {
  return total > 0 ? Math.round(((total - free) / total) * 1000) / 10 : 0;
}

export function formatMs(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${v.toFixed(v < 10 ? 2 : 1)} ms`;
}

function hhmm(iso: string): string {
  const d = new Date(iso);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

interface Line {
  name: string;
  values: (number | null)[];
  color?: string;
}

/** A line chart over the overview's steps; null latencies leave gaps. */
export function lineOption(series: StatPoint[], lines: Line[], unit = '') {
  return {
    tooltip: { trigger: 'axis' },
    legend: lines.length > 1 ? { top: 0 } : undefined,
    grid: { left: 48, right: 16, top: lines.length > 1 ? 28 : 12, bottom: 24 },
    xAxis: { type: 'category', boundaryGap: false, data: series.map((p) => hhmm(p.t)) },
    yAxis: { type: 'value', minInterval: unit ? 0 : 1, axisLabel: { formatter: `{value}${unit}` } },
    series: lines.map((l) => ({
      type: 'line', name: l.name, data: l.values, showSymbol: false, connectNulls: false,
      lineStyle: { width: 2 }, itemStyle: l.color ? { color: l.color } : undefined,
    })),
  };
}

/** Requests per minute of each step (steps may be longer or shorter than a minute). */
export function perMinute(series: StatPoint[], stepS: number): number[] {
  const f = stepS > 0 ? 60 / stepS : 1;
  return series.map((p) => Math.round(p.requests * f * 100) / 100);
}
