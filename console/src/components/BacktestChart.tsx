// A backtest's days as grouped columns: the rule's hits, the alerts it would add and the
// alerts it would suppress, per day. Plain SVG like Charts.tsx: one image with an accessible
// name, every column carrying its figure as a <title>, a legend in words.

import type { DayHits } from "../api/types";

const WIDTH = 560;
const HEIGHT = 200;
const LEFT = 40;
const BOTTOM = 28;
const TOP = 10;

export const BACKTEST_SERIES = [
  { key: "hits", text: "Hits", color: "var(--accent)" },
  { key: "alerts_added", text: "Alerts added", color: "var(--high)" },
  { key: "alerts_suppressed", text: "Alerts suppressed", color: "var(--ok)" },
] as const;

export function BacktestChart(props: { days: DayHits[]; label: string }) {
  const { days } = props;
  if (days.length === 0) return <p className="empty">No decisions in the window.</p>;
  const plotH = HEIGHT - BOTTOM - TOP;
  const plotW = WIDTH - LEFT - 8;
  const max = Math.max(1, ...days.flatMap((d) => BACKTEST_SERIES.map((s) => d[s.key])));
  const step = plotW / days.length;
  const barW = Math.max(1, Math.min(16, (step * 0.8) / BACKTEST_SERIES.length));
  const every = Math.max(1, Math.ceil(days.length / 8));
  return (
    <figure className="backtest-chart">
      <svg
        className="chart"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        style={{ maxWidth: WIDTH }}
        role="img"
        aria-label={props.label}
        preserveAspectRatio="xMinYMin meet"
      >
        <line x1={LEFT} x2={WIDTH - 8} y1={TOP + plotH} y2={TOP + plotH} className="chart-axis" />
        <text x={LEFT - 6} y={TOP + 4} className="chart-value" textAnchor="end">
          {max}
        </text>
        <text x={LEFT - 6} y={TOP + plotH} className="chart-value" textAnchor="end">
          0
        </text>
        {days.map((day, i) => {
          const x0 = LEFT + i * step + (step - barW * BACKTEST_SERIES.length) / 2;
          return (
            <g key={day.day}>
              {BACKTEST_SERIES.map((series, j) => {
                const h = (day[series.key] / max) * plotH;
                return (
                  <rect
                    key={series.key}
                    x={x0 + j * barW}
                    y={TOP + plotH - h}
                    width={barW}
                    height={h}
                    fill={series.color}
                  >
                    <title>{`${day.day} ${series.text.toLowerCase()}: ${day[series.key]}`}</title>
                  </rect>
                );
              })}
              {i % every === 0 && (
                <text
                  x={LEFT + i * step + step / 2}
                  y={HEIGHT - 8}
                  className="chart-tick"
                  textAnchor="middle"
                >
                  {day.day.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="legend">
        {BACKTEST_SERIES.map((series) => (
          <span key={series.key}>
            <span className="swatch" style={{ background: series.color }} aria-hidden="true" />
            {series.text}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
