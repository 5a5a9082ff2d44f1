import { useEffect, useMemo, useRef, useState } from 'react';
import { layerHeatmap } from '../../shared/checkpoints/checkpoint-diff';
import type { TensorDiff } from '../../shared/contract-checkpoints';
import { formatStat, heatColour } from './tensor-table-model';

const CELL_W = 26;
const CELL_H = 14;
const LABEL_W = 44;

/**
 * Layers (rows) × tensor kinds (columns) on a canvas, colour = relative change ‖Δ‖/‖A‖ (log scale, the largest
 * deepest red; grey where not comparable). Hovering a cell names it.
 */
export function LayerHeatmap({ rows }: { rows: readonly TensorDiff[] }) {
  const map = useMemo(() => layerHeatmap(rows), [rows]);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<string | null>(null);
  const width = LABEL_W + map.kinds.length * CELL_W;
  const height = map.layers.length * CELL_H;

  useEffect(() => {
    const el = canvas.current;
    const ctx = el?.getContext('2d');
    if (!el || !ctx) return;
    const ratio = window.devicePixelRatio || 1;
    el.width = Math.max(1, width * ratio);
    el.height = Math.max(1, height * ratio);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = '10px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = getComputedStyle(el).color || '#888';
    map.layers.forEach((layer, i) => {
      ctx.fillStyle = getComputedStyle(el).color || '#888';
      ctx.fillText(String(layer), 4, i * CELL_H + CELL_H / 2);
      map.kinds.forEach((_, j) => {
        ctx.fillStyle = heatColour(map.cells[i]![j]!, map.max);
        ctx.fillRect(LABEL_W + j * CELL_W, i * CELL_H, CELL_W - 1, CELL_H - 1);
      });
    });
  }, [map, width, height]);

  if (map.layers.length === 0) return <p className="muted">No tensors belong to numbered layers.</p>;
  return (
    <figure className="ckpt-heatmap" data-testid="ckpt-heatmap">
      <div className="ckpt-heatmap-kinds">
        {map.kinds.map((kind, j) => (
          <span key={kind} className="ckpt-heatmap-kind" title={kind}>
            {j + 1}
          </span>
        ))}
      </div>
      <canvas
        ref={canvas}
        className="ckpt-heatmap-canvas"
        style={{ width: `${width}px`, height: `${height}px` }}
        aria-label={`Relative change per layer (${map.layers.length} layers) and tensor kind (${map.kinds.length} kinds)`}
        role="img"
        onMouseMove={(e) => {
          const rect = e.currentTarget.getBoundingClientRect();
          const j = Math.floor((e.clientX - rect.left - LABEL_W) / CELL_W);
          const i = Math.floor((e.clientY - rect.top) / CELL_H);
          const layer = map.layers[i];
          const kind = map.kinds[j];
          setHover(
            layer === undefined || kind === undefined || j < 0
              ? null
              : `layer ${layer} · ${kind}: ${map.cells[i]![j] === null ? 'not comparable' : `relative change ${formatStat(map.cells[i]![j]!)}`}`,
          );
        }}
        onMouseLeave={() => setHover(null)}
      />
      <figcaption className="muted" data-testid="ckpt-heatmap-caption">
        {hover ??
          `Columns: ${map.kinds.map((k, j) => `${j + 1} ${k}`).join(' · ')}. Largest relative change ${formatStat(map.max)}.`}
      </figcaption>
    </figure>
  );
}
