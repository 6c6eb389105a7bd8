import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useSearchParams } from "react-router";

import type { AlertFilters, AlertSummary } from "../api/types";
import { SEVERITIES, STATUSES } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { AlertTable } from "../components/AlertTable";
import { ErrorBanner } from "../components/ErrorBanner";
import { FilterBar } from "../components/FilterBar";
import { mergeAlerts } from "../queue";

const REFRESH_MS = 5000;
const PAGE_SIZE = 50;

function filtersFrom(params: URLSearchParams): AlertFilters {
  const pick = <T extends string>(name: string, allowed: readonly T[]): T | undefined => {
    const value = params.get(name);
    return allowed.includes(value as T) ? (value as T) : undefined;
  };
  const minScore = params.get("min_score");
  return {
    status: pick("status", STATUSES),
    severity: pick("severity", SEVERITIES),
    card_id: params.get("card_id") ?? undefined,
    terminal_id: params.get("terminal_id") ?? undefined,
    min_score: minScore === null || minScore === "" ? undefined : Number(minScore),
    reason_code: params.get("reason_code") ?? undefined,
    from: params.get("from") ?? undefined,
    to: params.get("to") ?? undefined,
  };
}

function paramsFrom(filters: AlertFilters): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(filters)) {
    if (value !== undefined && value !== "") out[name] = String(value);
  }
  return out;
}

export function QueuePage() {
  const { api } = useAuth();
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => filtersFrom(params), [params]);
  const [alerts, setAlerts] = useState<AlertSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState(true);
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const generation = useRef(0); // answers for older filters are dropped

  const loadFirst = useCallback(
    async (replace: boolean) => {
      const mine = generation.current;
      try {
        const page = await api.listAlerts(filters, null, PAGE_SIZE);
        if (mine !== generation.current) return;
        setAlerts((shown) => (replace ? page.items : mergeAlerts(shown, page.items)));
        if (replace) setCursor(page.next_cursor);
        setError(null);
        setUpdatedAt(new Date());
      } catch (e) {
        if (mine === generation.current) setError(`Could not load alerts: ${(e as Error).message}`);
      } finally {
        if (mine === generation.current) setLoading(false);
      }
    },
    [api, filters],
  );

  useEffect(() => {
    generation.current += 1;
    setLoading(true);
    setAlerts([]);
    setCursor(null);
    void loadFirst(true);
  }, [loadFirst]);

  useEffect(() => {
    if (!live) return;
    const timer = window.setInterval(() => void loadFirst(false), REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [live, loadFirst]);

  async function loadMore() {
    if (!cursor) return;
    const mine = generation.current;
    setLoadingMore(true);
    try {
      const page = await api.listAlerts(filters, cursor, PAGE_SIZE);
      if (mine !== generation.current) return;
      setAlerts((shown) => mergeAlerts(shown, page.items));
      setCursor(page.next_cursor);
    } catch (e) {
      setError(`Could not load more alerts: ${(e as Error).message}`);
    } finally {
      setLoadingMore(false);
    }
  }

  const reasonCodes = useMemo(
    () => [...new Set(alerts.flatMap((a) => a.reason_codes))].sort(),
    [alerts],
  );

  return (
    <section aria-labelledby="queue-title">
      <div className="page-head">
        <h1 id="queue-title">Alert queue</h1>
        <div className="live">
          <label className="checkbox">
            <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} />
            Live refresh
          </label>
          <span className="muted" aria-live="polite">
            {updatedAt ? `Updated ${updatedAt.toLocaleTimeString("en-GB")}` : ""}
          </span>
        </div>
      </div>
      <FilterBar
        filters={filters}
        reasonCodes={reasonCodes}
        onApply={(next) => setParams(paramsFrom(next))}
      />
      <ErrorBanner message={error} />
      {loading ? (
        <p className="muted">Loading alerts…</p>
      ) : alerts.length === 0 ? (
        <p className="empty">No alerts match these filters.</p>
      ) : (
        <>
          <p className="muted count">
            {alerts.length} alert{alerts.length === 1 ? "" : "s"} shown, newest first
          </p>
          <AlertTable alerts={alerts} caption="Alerts, newest first" />
        </>
      )}
      {cursor && (
        <div className="load-more">
          <button type="button" onClick={() => void loadMore()} disabled={loadingMore}>
            {loadingMore ? "Loading…" : "Load more"}
          </button>
        </div>
      )}
    </section>
  );
}
