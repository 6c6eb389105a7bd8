import type { Reason } from "../api/types";
import { formatNumber, humanName, typicalFromReason } from "../format";
import { BarChart, type Bar } from "./Charts";

/** The alert's reasons as bars: their contribution to the score (the score's drop when the
 * feature is set to its baseline). When the alert does not carry contributions, the bars
 * show how far each reason's feature is from its typical value, and say so. */
export function ReasonChart(props: { reasons: Reason[]; features: Record<string, number> }) {
  const { reasons, features } = props;
  if (reasons.length === 0) return <p className="empty">This alert carries no reasons.</p>;
  const withContribution = reasons.every((r) => r.contribution !== null);
  let bars: Bar[];
  let caption: string;
  if (withContribution) {
    bars = reasons.map((r) => ({
      label: r.code,
      value: r.contribution ?? 0,
      valueText: `−${(r.contribution ?? 0).toFixed(3)}`,
      color: "var(--high)",
    }));
    caption = "Bars: the score's drop when the feature is set to its baseline.";
  } else {
    bars = reasons.flatMap((r) => {
      const value = features[r.code.toLowerCase()];
      const typical = typicalFromReason(r.text);
      if (value === undefined || typical === null) return [];
      const deviation = Math.abs(value - typical) / (Math.abs(typical) + 1);
      return [
        {
          label: r.code,
          value: deviation,
          valueText: `${formatNumber(value)} vs ${formatNumber(typical)}`,
          color: "var(--medium)",
        },
      ];
    });
    caption =
      "Alert v1 does not carry the reasons' contributions to the score: the bars show how far " +
      "each reason's feature is from its typical value, |value − typical| / (|typical| + 1); " +
      "the reasons are listed in the model's order of importance.";
  }
  return (
    <div>
      {bars.length > 0 && (
        <BarChart
          bars={bars}
          valueWidth={withContribution ? undefined : 150}
          label={`Reasons of this alert: ${reasons.map((r) => humanName(r.code)).join(", ")}`}
        />
      )}
      <p className="caption">{caption}</p>
      <ol className="reason-list">
        {reasons.map((r) => (
          <li key={r.code}>
            <span className="chip">{r.code}</span> {r.text}
          </li>
        ))}
      </ol>
    </div>
  );
}
