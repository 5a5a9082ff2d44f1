import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { GPU_COLORS } from '../common/gpu-colors';
import { lastValue, type ChartSeries } from './gpu-chart-data';

export interface GpuChartProps {
  /** `gpu-chart-<metric>` in the DOM, for tests and styles. */
  metric: string;
  title: string;
  unit: string;
  data: ChartSeries;
  /** Fixed y range (0–100 for utilisation); otherwise from the data, starting at 0. */
  yMax?: number;
  height?: number;
  format?: (value: number) => string;
}

function cssVar(el: Element, name: string, fallback: string): string {
  return getComputedStyle(el).getPropertyValue(name).trim() || fallback;
}

/**
 * One metric of every GPU over time, drawn by uPlot on a canvas (tens of thousands of points stay smooth). The
 * chart object lives in a ref: data goes to `setData`, never through React state. The wrapper carries what was drawn
 * (`data-points`, `data-latest`) so a test can check the chart's data rather than that a canvas exists.
 */
export function GpuChart({ metric, title, unit, data, yMax, height = 150, format }: GpuChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = data.labels.join('|');
  const show = format ?? ((v: number) => `${Math.round(v * 10) / 10}`);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    // Read at each draw, so the axes follow a theme change (redrawn below).
    const text = () => cssVar(el, '--text-muted', '#5d6470');
    const grid = () => cssVar(el, '--border', '#e2e4e8');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const chart = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height,
        legend: { show: false },
        cursor: { drag: { x: true, y: false } },
        scales: {
          x: { time: true },
          y: { range: (_u, _min, max) => [0, yMax ?? (max > 0 ? max * 1.1 : 1)] },
        },
        axes: [axis, { ...axis, size: 56, values: (_u, ticks) => ticks.map((t) => show(t)) }],
        series: [
          {},
          ...data.labels.map((label, i) => ({
            label,
            stroke: GPU_COLORS[i % GPU_COLORS.length],
            width: 1.5,
            spanGaps: false,
            points: { show: false },
          })),
        ],
      },
      data.aligned as uPlot.AlignedData,
      el,
    );
    plot.current = chart;
    el.setAttribute('data-drawn', String(chart.data[0]?.length ?? 0));
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    // The theme is `data-theme` on <html>, or the OS's scheme when it has none.
    const redraw = () => chart.redraw(false);
    const themeAttribute = new MutationObserver(redraw);
    themeAttribute.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    const scheme = window.matchMedia('(prefers-color-scheme: dark)');
    scheme.addEventListener('change', redraw);
    return () => {
      themeAttribute.disconnect();
      scheme.removeEventListener('change', redraw);
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // Rebuilt only when the set of GPUs changes; new samples go through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, height, yMax]);

  useEffect(() => {
    const chart = plot.current;
    if (!chart) return;
    chart.setData(data.aligned as uPlot.AlignedData);
    box.current?.setAttribute('data-drawn', String(chart.data[0]?.length ?? 0));
  }, [data]);

  const latest = data.labels.map((label, i) => ({ label, value: lastValue(data, i + 1) }));
  return (
    <figure className="gpu-chart" data-testid={`gpu-chart-${metric}`}>
      <figcaption className="gpu-chart-title">
        <span>{title}</span>
        <span className="gpu-chart-latest" data-testid={`gpu-chart-${metric}-latest`}>
          {latest.map(({ label, value }, i) => (
            <span key={label} className="gpu-chart-legend">
              <span
                className="gpu-chart-swatch"
                style={{ background: GPU_COLORS[i % GPU_COLORS.length] }}
                aria-hidden="true"
              />
              {label} {value === null ? '–' : `${show(value)} ${unit}`}
            </span>
          ))}
        </span>
      </figcaption>
      <div
        ref={box}
        className="gpu-chart-plot"
        data-points={data.aligned[0]?.length ?? 0}
        data-latest={latest.map((l) => (l.value === null ? '' : String(l.value))).join(',')}
      />
    </figure>
  );
}
