// The admin test endpoint's image answer (POST models/{id}/test, multipart):
// the application /infer response plus the image size and where it ran.
import { post } from '../../api/client';

export interface Box { x1: number; y1: number; x2: number; y2: number }
export interface Detection { box: Box; score: number; class_id?: number; label?: string }
export interface Region { polygon: number[][]; score?: number }
export interface ClassScore { index?: number; label?: string; score: number }
export interface TestResult {
  task?: string;
  classes?: ClassScore[];
  detections?: Detection[];
  regions?: Region[];
  outputs?: unknown[];
  timing_ms?: Record<string, number>;
  model_version?: number;
  image?: { width: number; height: number };
  source?: 'serving' | 'loaded' | string;
}
export interface TestParams {
  score_threshold?: number;
  iou_threshold?: number;
  top_k?: number;
}

export function runImageTest(id: string, image: File, params: TestParams, signal?: AbortSignal): Promise<TestResult> {
  const body = new FormData();
  body.append('image', image, image.name);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) body.append(k, String(v));
  return post<TestResult>(`models/${encodeURIComponent(id)}/test`, body, { signal });
}
