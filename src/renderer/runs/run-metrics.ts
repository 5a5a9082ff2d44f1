import { formatScore } from '../common/run-status-text';

export interface MetricRow {
  readonly label: string;
  readonly value: string;
}

function valueText(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  if (typeof value === 'string') return value;
  const json = JSON.stringify(value);
  // Nested breakdowns (HealthBench) belong in a later inspector; one line here says they exist.
  return json === undefined ? String(value) : json.length > 120 ? `${json.slice(0, 119)}…` : json;
}

/** metrics.json as rows: accuracy (with its score) first, then the rest in file order. */
export function metricRows(metrics: Record<string, unknown> | null): MetricRow[] {
  if (!metrics) return [];
  const rows: MetricRow[] = [];
  const accuracy = metrics.accuracy;
  if (typeof accuracy === 'number') {
    rows.push({ label: 'accuracy', value: `${valueText(accuracy)} (score ${formatScore(accuracy * 100)})` });
  }
  for (const [key, value] of Object.entries(metrics)) {
    if (key === 'accuracy' && typeof value === 'number') continue;
    rows.push({ label: key, value: valueText(value) });
  }
  return rows;
}
