import { Link, useNavigate } from "react-router";

import type { AlertSummary } from "../api/types";
import { formatAmount, formatScore, formatTime } from "../format";
import { ReasonChips, SeverityBadge, StatusBadge } from "./Badges";

export function AlertTable(props: { alerts: AlertSummary[]; caption: string; compact?: boolean }) {
  const navigate = useNavigate();
  return (
    <table className={`alerts${props.compact ? " compact" : ""}`}>
      <caption className="visually-hidden">{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">Severity</th>
          <th scope="col">Score</th>
          <th scope="col">Detected</th>
          <th scope="col">Transaction</th>
          {!props.compact && <th scope="col">Card</th>}
          <th scope="col">Terminal</th>
          <th scope="col" className="num">
            Amount
          </th>
          {!props.compact && <th scope="col">Reasons</th>}
          <th scope="col">Status</th>
        </tr>
      </thead>
      <tbody>
        {props.alerts.map((alert) => (
          <tr
            key={alert.alert_id}
            className={`row-${alert.severity}`}
            onClick={() => navigate(`/alerts/${alert.alert_id}`)}
          >
            <td>
              <SeverityBadge severity={alert.severity} />
            </td>
            <td className="mono">{formatScore(alert.score)}</td>
            <td className="mono nowrap">{formatTime(alert.detected_at)}</td>
            <td>
              <Link to={`/alerts/${alert.alert_id}`} onClick={(e) => e.stopPropagation()}>
                {alert.transaction_id}
              </Link>
            </td>
            {!props.compact && <td className="mono">{alert.card_id}</td>}
            <td className="mono">{alert.terminal_id}</td>
            <td className="num mono">{formatAmount(alert.amount, alert.currency)}</td>
            {!props.compact && (
              <td>
                <ReasonChips codes={alert.reason_codes} />
              </td>
            )}
            <td>
              <StatusBadge status={alert.status} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
