// The image with its results drawn over it: an SVG whose viewBox is the image's
// natural size, so boxes and polygons in image pixels scale with the display.
import type { Size } from './geometry';
import { boxToRect, colorFor, fontFor, percent, polygonToPoints, strokeFor } from './geometry';
import type { TestResult } from './types';

interface Props {
  src: string;
  alt: string;
  result: TestResult | null;
  natural: Size | null; // the loaded image's natural size
  onNatural: (s: Size) => void;
}

export default function Overlay({ src, alt, result, natural, onNatural }: Props) {
  const space = result?.image ?? natural;
  const view = natural ?? space;
  return (
    <div style={{ position: 'relative', display: 'inline-block', maxWidth: '100%', lineHeight: 0 }}>
      <img
        src={src}
        alt={alt}
        style={{ maxWidth: '100%', maxHeight: '70vh', display: 'block' }}
        onLoad={(e) => onNatural({ width: e.currentTarget.naturalWidth, height: e.currentTarget.naturalHeight })}
      />
      {result && space && view && (
        <svg
          data-testid="pg-overlay"
          viewBox={`0 0 ${view.width} ${view.height}`}
          preserveAspectRatio="none"
          style={{ position: 'absolute', inset: 0, width: '100%', height: '100%', pointerEvents: 'none' }}
        >
          {(result.detections ?? []).map((d, i) => {
            const r = boxToRect(d.box, space, view);
            const color = colorFor(d.class_id);
            const font = fontFor(view);
            return (
              <g key={`d${i}`}>
                <rect data-testid="pg-box" x={r.x} y={r.y} width={r.width} height={r.height} fill="none" stroke={color} strokeWidth={strokeFor(view)} />
                <text data-testid="pg-box-label" x={r.x} y={Math.max(font, r.y - 2)} fill={color} fontSize={font} fontFamily="sans-serif"
                      stroke="#fff" strokeWidth={font / 8} paintOrder="stroke">
                  {`${d.label ?? d.class_id ?? ''} ${percent(d.score)}`}
                </text>
              </g>
            );
          })}
          {(result.regions ?? []).map((g, i) => (
            <polygon key={`r${i}`} data-testid="pg-region" points={polygonToPoints(g.polygon, space, view)}
                     fill="rgba(31,111,235,0.15)" stroke="#1f6feb" strokeWidth={strokeFor(view)} />
          ))}
        </svg>
      )}
    </div>
  );
}
