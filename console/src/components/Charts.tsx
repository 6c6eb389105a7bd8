// Plain SVG charts: horizontal bars (categories) and columns (time series). Each chart is
// one image with an accessible name; every bar carries its figure as a <title>.

export interface Bar {
  label: string;
  value: number;
  valueText?: string;
  color?: string;
  note?: string;
}

const LABEL_W = 230;
const VALUE_W = 70;
const WIDTH = 640;
const ROW_H = 30;

export function BarChart(props: { bars: Bar[]; label: string; max?: number; valueWidth?: number }) {
  const { bars } = props;
  const valueW = props.valueWidth ?? VALUE_W;
  if (bars.length === 0) return <p className="empty">No data.</p>;
  const max = props.max ?? Math.max(...bars.map((b) => Math.abs(b.value)), 1e-9);
  const plot = WIDTH - LABEL_W - valueW;
  const height = bars.length * ROW_H + 4;
  return (
    <svg
      className="chart"
      viewBox={`0 0 ${WIDTH} ${height}`}
      style={{ maxWidth: WIDTH }}
      role="img"
      aria-label={props.label}
      preserveAspectRatio="xMinYMin meet"
    >
      {bars.map((bar, i) => {
        const y = i * ROW_H + 4;
        const w = Math.max(2, (Math.abs(bar.value) / max) * plot);
        return (
          <g key={bar.label}>
            <title>{`${bar.label}: ${bar.valueText ?? bar.value}`}</title>
            <text x={LABEL_W - 10} y={y + ROW_H / 2} className="chart-label" textAnchor="end">
              {bar.label.length > 32 ? `${bar.label.slice(0, 31)}…` : bar.label}
            </text>
            <rect x={LABEL_W} y={y + 5} width={plot} height={ROW_H - 12} className="chart-track" />
            <rect
              x={LABEL_W}
              y={y + 5}
              width={w}
              height={ROW_H - 12}
              rx={3}
              fill={bar.color ?? "var(--accent)"}
            />
            <text x={LABEL_W + plot + 8} y={y + ROW_H / 2} className="chart-value">
              {bar.valueText ?? bar.value}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

export interface Column {
  label: string;
  value: number;
  tick?: string;
}

export function ColumnChart(props: { columns: Column[]; label: string; color?: string }) {
  const { columns } = props;
  if (columns.length === 0) return <p className="empty">No data.</p>;
  const height = 180;
  const left = 36;
  const bottom = 28;
  const plotH = height - bottom - 10;
  const plotW = WIDTH - left - 8;
  const max = Math.max(...columns.map((c) => c.value), 1);
  const step = plotW / columns.length;
  const barW = Math.min(56, Math.max(1, step * 0.76));
  const every = Math.max(1, Math.ceil(columns.length / 8));
  return (
    <svg
      className="chart"
      viewBox={`0 0 ${WIDTH} ${height}`}
      style={{ maxWidth: WIDTH }}
      role="img"
      aria-label={props.label}
      preserveAspectRatio="xMinYMin meet"
    >
      <line x1={left} x2={WIDTH - 8} y1={10 + plotH} y2={10 + plotH} className="chart-axis" />
      <text x={left - 6} y={14} className="chart-value" textAnchor="end">
        {max}
      </text>
      <text x={left - 6} y={10 + plotH} className="chart-value" textAnchor="end">
        0
      </text>
      {columns.map((column, i) => {
        const h = (column.value / max) * plotH;
        const x = left + i * step;
        return (
          <g key={column.label}>
            <title>{`${column.label}: ${column.value}`}</title>
            <rect
              x={x + (step - barW) / 2}
              y={10 + plotH - h}
              width={barW}
              height={h}
              rx={2}
              fill={props.color ?? "var(--accent)"}
            />
            {i % every === 0 && (
              <text x={x + step / 2} y={height - 8} className="chart-tick" textAnchor="middle">
                {column.tick ?? column.label}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}
