import { useEffect, useRef } from 'react';

/**
 * A small utilisation curve (0–100 %) on a canvas: one value per equal time bucket, null where nothing was sampled
 * (the line breaks there). Drawn in an effect, so a list of runs re-rendering each second stays cheap.
 */
export function GpuSparkline({
  values,
  width = 96,
  height = 22,
  testId,
}: {
  values: ReadonlyArray<number | null>;
  width?: number;
  height?: number;
  testId?: string;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const key = values.join(',');

  useEffect(() => {
    const el = canvas.current;
    const ctx = el?.getContext('2d');
    if (!el || !ctx) return;
    const ratio = window.devicePixelRatio || 1;
    el.width = Math.round(width * ratio);
    el.height = Math.round(height * ratio);
    // CSSOM, not a style attribute: the CSP allows no inline style.
    el.style.width = `${width}px`;
    el.style.height = `${height}px`;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const color = getComputedStyle(el).color || '#3b82f6';
    const n = values.length;
    if (n === 0) return;
    // Each value owns an equal slice of the width: a faint bar for its level, the curve through the slices' middles.
    const w = width / n;
    const y = (v: number) => height - 1 - (Math.max(0, Math.min(100, v)) / 100) * (height - 2);
    ctx.globalAlpha = 0.18;
    ctx.fillStyle = color;
    values.forEach((v, i) => {
      if (v !== null) ctx.fillRect(i * w, y(v), w, height - y(v));
    });
    ctx.globalAlpha = 1;
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.25;
    ctx.beginPath();
    let previous: number | null = null;
    values.forEach((v, i) => {
      if (v === null) {
        previous = null;
        return;
      }
      // A lone value (neighbours unsampled) is drawn flat across its slice, so it stays visible.
      if (previous === null) ctx.moveTo(i * w, y(v));
      ctx.lineTo((i + 0.5) * w, y(v));
      const next = values[i + 1];
      if (next === null || next === undefined) ctx.lineTo((i + 1) * w, y(v));
      previous = v;
    });
    ctx.stroke();
    // `key` stands for `values`: an equal list drawn again would change nothing.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, width, height]);

  const known = values.filter((v): v is number => v !== null);
  const mean = known.length > 0 ? Math.round(known.reduce((a, b) => a + b, 0) / known.length) : null;
  return (
    <canvas
      ref={canvas}
      className="gpu-sparkline"
      width={width}
      height={height}
      role="img"
      aria-label={mean === null ? 'No GPU samples' : `GPU utilisation over the run, mean ${mean} %`}
      data-testid={testId}
      data-values={key}
    />
  );
}
