import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { GPU_COLORS } from '../common/gpu-colors';

export interface XySeries {
  label: string;
  values: (number | null)[];
}

/**
 * A numeric x axis with one or more series, drawn by uPlot: lines (two runs' GPU use by elapsed hours) or points only
 * (score against GPU hours). The chart lives in a ref and is rebuilt when its data changes; the wrapper carries the
 * number of points drawn (`data-points`) so a test can check what was drawn.
 */
export function XyChart({
  testId,
  x,
  series,
  xLabel,
  yLabel,
  points = false,
  height = 220,
  yMax,
}: {
  testId: string;
  x: number[];
  series: XySeries[];
  xLabel: string;
  yLabel: string;
  points?: boolean;
  height?: number;
  yMax?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const style = getComputedStyle(el);
    const text = style.getPropertyValue('--text-muted').trim() || '#5d6470';
    const grid = style.getPropertyValue('--border').trim() || '#e2e4e8';
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const chart = new uPlot(
      {
        width: Math.max(240, el.clientWidth),
        height,
        legend: { show: series.length > 1 },
        scales: {
          // From 0 (hours, GPU hours), with room past the last point so it is not drawn on the edge.
          x: { time: false, range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] },
          y: { range: (_u, _min, max) => [0, yMax ?? (max > 0 ? max * 1.1 : 1)] },
        },
        axes: [
          { ...axis, label: xLabel },
          { ...axis, label: yLabel, size: 56 },
        ],
        series: [
          { label: xLabel },
          ...series.map((s, i) => ({
            label: s.label,
            stroke: GPU_COLORS[i % GPU_COLORS.length],
            width: points ? 0 : 1.5,
            spanGaps: true,
            points: { show: points, size: 8, fill: GPU_COLORS[i % GPU_COLORS.length] },
          })),
        ],
      },
      [x, ...series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    el.setAttribute('data-drawn', String(x.length));
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(240, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [x, series, xLabel, yLabel, points, height, yMax]);
  return <div ref={box} className="xy-chart" data-testid={testId} data-points={x.length} />;
}
