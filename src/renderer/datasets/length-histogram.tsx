/** Row lengths as SVG bars (no canvas, no HTML from data): one bar per bin, its count and range in the tooltip. */
export function LengthHistogram({ histogram }: { histogram: { edges: number[]; counts: number[] } }) {
  const { edges, counts } = histogram;
  if (!counts.length) return <p className="muted">No rows.</p>;
  const width = 600;
  const height = 140;
  const max = Math.max(...counts, 1);
  const barWidth = width / counts.length;
  return (
    <svg
      className="datasets-histogram"
      viewBox={`0 0 ${width} ${height + 18}`}
      role="img"
      aria-label="Histogram of text length per row"
      data-testid="datasets-histogram"
    >
      {counts.map((c, i) => {
        const h = (c / max) * height;
        return (
          <rect
            key={i}
            x={i * barWidth + 1}
            y={height - h}
            width={Math.max(barWidth - 2, 1)}
            height={h}
            className="datasets-histogram-bar"
          >
            <title>{`${Math.round(edges[i] ?? 0)}–${Math.round(edges[i + 1] ?? 0)}: ${c} rows`}</title>
          </rect>
        );
      })}
      <text x={0} y={height + 14} className="datasets-histogram-label">
        {Math.round(edges[0] ?? 0)}
      </text>
      <text x={width} y={height + 14} textAnchor="end" className="datasets-histogram-label">
        {Math.round(edges[edges.length - 1] ?? 0)}
      </text>
    </svg>
  );
}
