import { Link } from "react-router";

import type { AlertSummary } from "../api/types";
import { formatAmount, formatTime } from "../format";
import { SeverityBadge, StatusBadge } from "./Badges";

const WIDTH = 1000;
const HEIGHT = 70;

/** The card's alerts on one time axis (this one ringed), then as a list. */
export function CardTimeline(props: { current: AlertSummary; others: AlertSummary[] }) {
  const all = [props.current, ...props.others].sort((a, b) =>
    a.detected_at.localeCompare(b.detected_at),
  );
  const times = all.map((a) => new Date(a.detected_at).getTime());
  const first = Math.min(...times);
  const span = Math.max(Math.max(...times) - first, 1);
  const x = (t: number) => 20 + ((t - first) / span) * (WIDTH - 40);
  return (
    <div>
      <svg
        className="chart"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        style={{ maxWidth: WIDTH }}
        role="img"
        aria-label={`Timeline of ${all.length} alerts on card ${props.current.card_id}`}
      >
        <line x1={20} x2={WIDTH - 20} y1={32} y2={32} className="chart-axis" />
        {all.map((alert, i) => {
          const cx = all.length === 1 ? WIDTH / 2 : x(times[i] ?? first);
          const current = alert.alert_id === props.current.alert_id;
          return (
            <g key={alert.alert_id}>
              <title>{`${alert.transaction_id} · ${formatTime(alert.detected_at)} · ${alert.severity}`}</title>
              {current && <circle cx={cx} cy={32} r={11} className="timeline-ring" />}
              <circle cx={cx} cy={32} r={6} fill={`var(--${alert.severity})`} />
            </g>
          );
        })}
        <text x={20} y={62} className="chart-tick">
          {formatTime(all[0]?.detected_at ?? "")}
        </text>
        <text x={WIDTH - 20} y={62} className="chart-tick" textAnchor="end">
          {formatTime(all[all.length - 1]?.detected_at ?? "")}
        </text>
      </svg>
      {props.others.length === 0 ? (
        <p className="empty">No other recent alerts on this card.</p>
      ) : (
        <ul className="timeline-list">
          {props.others.map((alert) => (
            <li key={alert.alert_id}>
              <SeverityBadge severity={alert.severity} />
              <span className="mono">{formatTime(alert.detected_at)}</span>
              <Link to={`/alerts/${alert.alert_id}`}>{alert.transaction_id}</Link>
              <span className="mono">{formatAmount(alert.amount, alert.currency)}</span>
              <span className="mono">{alert.terminal_id}</span>
              <StatusBadge status={alert.status} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
