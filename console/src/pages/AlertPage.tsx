import { useCallback, useEffect, useRef, useState } from "react";
import { Link, useParams } from "react-router";

import type { AlertDetail, VerdictLabel } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { SeverityBadge, StatusBadge } from "../components/Badges";
import { BaselineTable } from "../components/BaselineTable";
import { CardTimeline } from "../components/CardTimeline";
import { ErrorBanner } from "../components/ErrorBanner";
import { ReasonChart } from "../components/ReasonChart";
import { VerdictPanel } from "../components/VerdictPanel";
import { formatAmount, formatNumber, formatScore, formatTime, humanName } from "../format";
import { optimisticAlert } from "../verdicts";

export function AlertPage() {
  const { alertId = "" } = useParams();
  const { api, analyst, session } = useAuth();
  const [detail, setDetail] = useState<AlertDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState<VerdictLabel | null>(null);
  const [verdictError, setVerdictError] = useState<string | null>(null);

  const shownId = useRef(alertId); // an answer for an alert no longer shown is dropped
  shownId.current = alertId;

  const load = useCallback(async () => {
    try {
      const loaded = await api.getAlert(alertId);
      if (shownId.current !== alertId) return;
      setDetail(loaded);
      setError(null);
    } catch (e) {
      if (shownId.current === alertId)
        setError(`Could not load the alert: ${(e as Error).message}`);
    }
  }, [api, alertId]);

  useEffect(() => {
    setDetail(null);
    setError(null);
    setVerdictError(null);
    void load();
  }, [load]);

  async function giveVerdict(label: VerdictLabel, note: string | null) {
    if (!detail) return;
    const before = detail;
    setPending(label);
    setVerdictError(null);
    setDetail({
      ...before,
      alert: optimisticAlert(before.alert, label, note, session?.email ?? "you"),
    });
    try {
      const saved = await api.postFeedback(before.alert.alert_id, { label, note });
      setDetail((shown) =>
        shown?.alert.alert_id === saved.alert_id
          ? { ...shown, alert: { ...shown.alert, ...saved } }
          : shown,
      );
      void load(); // the verdict history, as stored
    } catch (e) {
      setDetail((shown) => (shown?.alert.alert_id === before.alert.alert_id ? before : shown));
      setVerdictError(
        `The verdict was not saved (${(e as Error).message}); the alert is unchanged.`,
      );
    } finally {
      setPending(null);
    }
  }

  if (error) {
    return (
      <section>
        <p>
          <Link to="/">← Alert queue</Link>
        </p>
        <ErrorBanner message={error} />
      </section>
    );
  }
  if (!detail) return <p className="muted">Loading the alert…</p>;
  const { alert } = detail;
  const features = Object.entries(alert.features).sort(([a], [b]) => a.localeCompare(b));
  return (
    <article aria-labelledby="alert-title">
      <p className="breadcrumb">
        <Link to="/">← Alert queue</Link>
      </p>
      <div className="page-head title-row">
        <h1 id="alert-title">Alert on {alert.transaction_id}</h1>
        <div className="head-badges">
          <SeverityBadge severity={alert.severity} />
          <StatusBadge status={alert.status} label="Alert status" live />
        </div>
      </div>

      <div className="detail-grid">
        <section className="panel facts" aria-labelledby="facts-title">
          <h2 id="facts-title">Payment</h2>
          <dl>
            <dt>Amount</dt>
            <dd className="big">{formatAmount(alert.amount, alert.currency)}</dd>
            <dt>Card</dt>
            <dd className="mono">{alert.card_id}</dd>
            <dt>Terminal</dt>
            <dd className="mono">{alert.terminal_id}</dd>
            <dt>Merchant category</dt>
            <dd className="mono">{alert.merchant_category ?? "—"}</dd>
            <dt>Country, channel</dt>
            <dd>
              {alert.country ?? "—"} · {alert.channel ?? "—"}
            </dd>
            <dt>Payment time</dt>
            <dd className="mono">{formatTime(alert.event_time)}</dd>
            <dt>Detected</dt>
            <dd className="mono">
              {formatTime(alert.detected_at)}
              {alert.late && <span className="chip chip-warn">late</span>}
            </dd>
          </dl>
        </section>

        <section className="panel" aria-labelledby="score-title">
          <h2 id="score-title">Score</h2>
          <ScoreGauge score={alert.score} threshold={alert.threshold} />
          <dl>
            <dt>Score / threshold</dt>
            <dd className="mono">
              {formatScore(alert.score)} / {formatScore(alert.threshold)}
            </dd>
            <dt>Model version</dt>
            <dd className="mono">{alert.model_version}</dd>
          </dl>
        </section>

        <VerdictPanel
          alert={alert}
          canGiveVerdicts={analyst}
          pending={pending}
          error={verdictError}
          onVerdict={(label, note) => void giveVerdict(label, note)}
        />
      </div>

      <section className="panel" aria-labelledby="reasons-title">
        <h2 id="reasons-title">Reasons</h2>
        <ReasonChart reasons={detail.reasons} features={alert.features} />
      </section>

      <section className="panel" aria-labelledby="baselines-title">
        <h2 id="baselines-title">Against the card's baselines</h2>
        <BaselineTable baselines={detail.baselines} />
        <details className="all-features">
          <summary>All {features.length} features</summary>
          <table className="features">
            <tbody>
              {features.map(([name, value]) => (
                <tr key={name}>
                  <th scope="row">{humanName(name)}</th>
                  <td className="num mono">{formatNumber(value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      </section>

      <section className="panel" aria-labelledby="timeline-title">
        <h2 id="timeline-title">Card timeline</h2>
        <CardTimeline current={alert} others={detail.card_alerts} />
      </section>

      {detail.verdicts.length > 0 && (
        <section className="panel" aria-labelledby="history-title">
          <h2 id="history-title">Verdict history</h2>
          <ol className="history">
            {detail.verdicts.map((v) => (
              <li key={v.revision}>
                <span className="mono">#{v.revision}</span>{" "}
                {v.label === "fraud" ? "Fraud" : "Legitimate"} by {v.by} at {formatTime(v.at)}
                {v.note && <q>{v.note}</q>}
              </li>
            ))}
          </ol>
        </section>
      )}
    </article>
  );
}

function ScoreGauge({ score, threshold }: { score: number; threshold: number }) {
  return (
    <svg
      className="gauge"
      viewBox="0 0 300 34"
      role="img"
      aria-label={`Score ${formatScore(score)}, threshold ${formatScore(threshold)}`}
    >
      <rect x={0} y={8} width={300} height={12} rx={6} className="chart-track" />
      <rect x={0} y={8} width={score * 300} height={12} rx={6} fill="var(--high)" />
      <line x1={threshold * 300} x2={threshold * 300} y1={2} y2={26} className="gauge-threshold" />
      <text x={Math.min(threshold * 300 + 4, 240)} y={33} className="chart-tick">
        threshold
      </text>
    </svg>
  );
}
