// Overlay geometry: scaling, box normalisation and clipping, polygon points, timing order.
import { describe, expect, it } from 'vitest';
import { boxToRect, percent, polygonToPoints, scalePoint, timingRows } from './geometry';

const img = { width: 1000, height: 500 };
const half = { width: 500, height: 250 };

describe('overlay geometry', () => {
  it('scales points between image spaces', () => {
    expect(scalePoint(100, 50, img, half)).toEqual([50, 25]);
    expect(scalePoint(100, 50, img, img)).toEqual([100, 50]);
    expect(scalePoint(10, 10, { width: 0, height: 0 }, img)).toEqual([10, 10]);
  });

  it('turns a box into a rect, scaled, with corners in any order', () => {
    expect(boxToRect({ x1: 100, y1: 50, x2: 300, y2: 250 }, img, half)).toEqual({ x: 50, y: 25, width: 100, height: 100 });
    expect(boxToRect({ x1: 300, y1: 250, x2: 100, y2: 50 }, img, img)).toEqual({ x: 100, y: 50, width: 200, height: 200 });
  });

  it('clips boxes to the image', () => {
    expect(boxToRect({ x1: -20, y1: -5, x2: 1200, y2: 100 }, img, img)).toEqual({ x: 0, y: 0, width: 1000, height: 100 });
  });

  it('writes polygon points, scaled, skipping malformed ones', () => {
    const poly = [[10, 20], [110, 20], [110, 60], [10, 60]];
    expect(polygonToPoints(poly, img, img)).toBe('10,20 110,20 110,60 10,60');
    expect(polygonToPoints(poly, img, half)).toBe('5,10 55,10 55,30 5,30');
    expect(polygonToPoints([[1, 2], [3], [Number.NaN, 1]], img, img)).toBe('1,2');
  });

  it('formats scores and orders timing stages', () => {
    expect(percent(0.8734)).toBe('87.3%');
    expect(timingRows({ total: 9, infer: 5, decode: 1, custom: 2, preprocess: 1 }).map(([k]) => k))
      .toEqual(['decode', 'preprocess', 'infer', 'total', 'custom']);
    expect(timingRows(undefined)).toEqual([]);
  });
});
