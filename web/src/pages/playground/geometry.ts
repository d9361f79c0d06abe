// Overlay geometry: result coordinates (original image pixels, in the space the
// server reports) mapped into the SVG's viewBox space (the displayed image's
// natural size); the SVG's viewBox then scales everything to the displayed size.
import type { Box } from './types';

export interface Size { width: number; height: number }
export interface Rect { x: number; y: number; width: number; height: number }

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

export function scalePoint(x: number, y: number, from: Size, to: Size): [number, number] {
  const sx = from.width > 0 ? to.width / from.width : 1;
  const sy = from.height > 0 ? to.height / from.height : 1;
  return [x * sx, y * sy];
}

// A box as an SVG rect: corners in either order, clipped to the image.
export function boxToRect(box: Box, from: Size, to: Size): Rect {
  const [ax, ay] = scalePoint(box.x1, box.y1, from, to);
  const [bx, by] = scalePoint(box.x2, box.y2, from, to);
  const x1 = clamp(Math.min(ax, bx), 0, to.width);
  const y1 = clamp(Math.min(ay, by), 0, to.height);
  const x2 = clamp(Math.max(ax, bx), 0, to.width);
  const y2 = clamp(Math.max(ay, by), 0, to.height);
  return { x: x1, y: y1, width: x2 - x1, height: y2 - y1 };
}

// A polygon as the `points` attribute of an SVG polygon; malformed points are skipped.
export function polygonToPoints(polygon: number[][], from: Size, to: Size): string {
  return polygon
    .filter((p) => Array.isArray(p) && p.length >= 2 && p.every((v) => Number.isFinite(v)))
    .map(([x, y]) => scalePoint(x, y, from, to).map((v) => Number(v.toFixed(2))).join(','))
    .join(' ');
}

// Line width and font size in viewBox units, so they look alike at any image size.
export function strokeFor(size: Size): number {
  return Math.max(1, Math.max(size.width, size.height) / 320);
}
export function fontFor(size: Size): number {
  return Math.max(10, Math.max(size.width, size.height) / 45);
}

const PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#9a6324'];
export function colorFor(classId: number | undefined): string {
  return PALETTE[Math.abs(classId ?? 0) % PALETTE.length];
}

export function percent(score: number): string {
  return `${(score * 100).toFixed(1)}%`;
}

const TIMING_ORDER = ['decode', 'preprocess', 'queue', 'infer', 'postprocess', 'load', 'total'];
// The timing keys present, in pipeline order, then any others.
export function timingRows(timing: Record<string, number> | undefined): [string, number][] {
  if (!timing) return [];
  const keys = Object.keys(timing).filter((k) => typeof timing[k] === 'number');
  keys.sort((a, b) => {
    const ia = TIMING_ORDER.indexOf(a);
    const ib = TIMING_ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  });
  return keys.map((k) => [k, timing[k]]);
}
