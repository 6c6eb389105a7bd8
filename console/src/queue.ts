// The queue's list: pages and live refreshes merged into one list, newest first.

import type { AlertSummary } from "./api/types";

/** Newest first (as the API orders); a refreshed alert replaces what was shown of it. */
export function mergeAlerts(shown: AlertSummary[], fresh: AlertSummary[]): AlertSummary[] {
  const byId = new Map(shown.map((a) => [a.alert_id, a]));
  for (const alert of fresh) byId.set(alert.alert_id, alert);
  return [...byId.values()].sort(
    (a, b) => b.detected_at.localeCompare(a.detected_at) || b.alert_id.localeCompare(a.alert_id),
  );
}
