import { useEffect, useState } from "react";

import { SEVERITIES, type Metrics } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { BarChart, ColumnChart } from "../components/Charts";
import { ErrorBanner } from "../components/ErrorBanner";
import { formatDuration, formatPercent, SEVERITY_TEXT } from "../format";
import { everyDay, everyHour } from "../metrics";

const PERIODS = [1, 7, 30] as const;

export function OverviewPage() {
  const { api } = useAuth();
  const [days, setDays] = useState<number>(7);
  const [metrics, setMetrics] = useState<Metrics | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    api
      .getMetrics(days)
      .then((m) => current && (setMetrics(m), setError(null)))
      .catch((e: Error) => current && setError(`Could not load the metrics: ${e.message}`));
    return () => {
      current = false;
    };
  }, [api, days]);

  const hours = metrics ? everyHour(metrics.alerts_per_hour) : [];
  const total = metrics?.alerts_per_day.reduce((sum, d) => sum + d.count, 0) ?? 0;
  const codes = Object.entries(metrics?.by_reason_code ?? {})
    .sort(([, a], [, b]) => b - a)
    .slice(0, 12);
  const versions = Object.entries(metrics?.model_versions ?? {}).sort(([, a], [, b]) => b - a);

  return (
    <section aria-labelledby="overview-title">
      <div className="page-head">
        <h1 id="overview-title">Overview</h1>
        <label className="inline">
          Period
          <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {PERIODS.map((d) => (
              <option key={d} value={d}>
                Last {d === 1 ? "day" : `${d} days`}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBanner message={error} />
      {!metrics ? (
        !error && <p className="muted">Loading the metrics…</p>
      ) : (
        <>
          <div className="stats">
            <Stat label="Alerts" value={total.toLocaleString("en-GB")} />
            <Stat label="Reviewed" value={metrics.reviewed.toLocaleString("en-GB")} />
            <Stat
              label="Reviewed precision"
              value={formatPercent(metrics.reviewed_precision)}
              hint="share of reviewed alerts confirmed as fraud"
            />
            <Stat
              label="Median time to review"
              value={formatDuration(metrics.median_time_to_review_s)}
            />
          </div>
          <div className="chart-grid">
            <section className="panel" aria-labelledby="per-hour-title">
              <h2 id="per-hour-title">Alerts per hour</h2>
              <ColumnChart
                label="Alerts per hour"
                columns={hours.map((h) => ({
                  label: h.label,
                  value: h.count,
                  // more than a day: the date too
                  tick:
                    hours.length > 24
                      ? `${h.label.slice(5, 10)} ${h.label.slice(11, 13)}h`
                      : h.label.slice(11, 16),
                }))}
              />
            </section>
            <section className="panel" aria-labelledby="per-day-title">
              <h2 id="per-day-title">Alerts per day</h2>
              <ColumnChart
                label="Alerts per day"
                color="var(--accent-2)"
                columns={everyDay(metrics.alerts_per_day, days).map((d) => ({
                  label: d.label,
                  value: d.count,
                  tick: d.label.slice(5),
                }))}
              />
            </section>
            <section className="panel" aria-labelledby="severity-title">
              <h2 id="severity-title">By severity</h2>
              <BarChart
                label="Alerts by severity"
                bars={SEVERITIES.map((s) => ({
                  label: SEVERITY_TEXT[s],
                  value: metrics.by_severity[s] ?? 0,
                  color: `var(--${s})`,
                }))}
              />
            </section>
            <section className="panel" aria-labelledby="codes-title">
              <h2 id="codes-title">By reason code</h2>
              <BarChart
                label="Alerts by reason code"
                bars={codes.map(([code, n]) => ({ label: code, value: n }))}
              />
            </section>
            <section className="panel" aria-labelledby="models-title">
              <h2 id="models-title">Model versions in service</h2>
              <BarChart
                label="Alerts by model version"
                bars={versions.map(([version, n]) => ({
                  label: version,
                  value: n,
                  color: "var(--accent-2)",
                }))}
              />
            </section>
          </div>
        </>
      )}
    </section>
  );
}

function Stat(props: { label: string; value: string; hint?: string }) {
  return (
    <div className="stat" title={props.hint}>
      <div className="stat-value">{props.value}</div>
      <div className="stat-label">{props.label}</div>
    </div>
  );
}
