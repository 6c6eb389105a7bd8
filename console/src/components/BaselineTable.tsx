import type { Baseline } from "../api/types";
import { formatNumber, humanName } from "../format";

/** Each figure of this payment beside the card's own baseline, with a bar of the ratio. */
export function BaselineTable({ baselines }: { baselines: Baseline[] }) {
  if (baselines.length === 0) return <p className="empty">No baselines for this card.</p>;
  const ratios = baselines.map((b) => (b.baseline ? b.value / b.baseline : null));
  // The scale ends at 10× (further is drawn full): one outlier must not flatten the rest.
  const maxRatio = Math.min(10, Math.max(2, ...ratios.map((r) => r ?? 0)));
  return (
    <table className="baselines">
      <caption className="visually-hidden">Features against the card's baselines</caption>
      <thead>
        <tr>
          <th scope="col">Feature</th>
          <th scope="col" className="num">
            This payment
          </th>
          <th scope="col" className="num">
            Card baseline
          </th>
          <th scope="col">Ratio</th>
        </tr>
      </thead>
      <tbody>
        {baselines.map((b, i) => {
          const ratio = ratios[i] ?? null;
          const high = ratio !== null && ratio >= 2;
          return (
            <tr key={b.feature}>
              <th scope="row">{humanName(b.feature)}</th>
              <td className="num mono">{formatNumber(b.value)}</td>
              <td className="num mono">{formatNumber(b.baseline)}</td>
              <td className="ratio-cell">
                {ratio === null ? (
                  "—"
                ) : (
                  <span className="ratio">
                    <span className="ratio-track">
                      <span
                        className={`ratio-bar${high ? " ratio-high" : ""}`}
                        style={{ width: `${Math.min(100, (ratio / maxRatio) * 100)}%` }}
                      />
                      <span
                        className="ratio-one"
                        style={{ left: `${(1 / maxRatio) * 100}%` }}
                        title="baseline"
                      />
                    </span>
                    <span className="mono">{ratio.toFixed(1)}×</span>
                  </span>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
