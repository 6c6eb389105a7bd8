import { describe, expect, it } from "vitest";

import type { AlertSummary } from "./api/types";
import { optimisticAlert } from "./verdicts";

const alert: AlertSummary = {
  alert_id: "a".repeat(32),
  transaction_id: "t-1",
  event_time: "2026-11-28T12:00:00Z",
  detected_at: "2026-11-28T12:00:00Z",
  card_id: "card_1",
  terminal_id: "term_1",
  amount: 10,
  currency: "EUR",
  merchant_category: null,
  country: null,
  channel: null,
  score: 0.9,
  threshold: 0.4,
  severity: "high",
  model_version: "m",
  reason_codes: [],
  reasons: [],
  status: "new",
  verdict: null,
};

describe("optimisticAlert", () => {
  it("shows the new status and a first revision at once", () => {
    const shown = optimisticAlert(alert, "fraud", null, "analyst@example.com");
    expect(shown.status).toBe("confirmed_fraud");
    expect(shown.verdict?.revision).toBe(1);
    expect(alert.status).toBe("new"); // the original stays for the rollback
  });

  it("counts a changed verdict as the next revision and keeps a repeated one", () => {
    const first = optimisticAlert(alert, "fraud", null, "a");
    expect(optimisticAlert(first, "legit", null, "a").verdict?.revision).toBe(2);
    expect(optimisticAlert(first, "fraud", null, "a").verdict).toBe(first.verdict);
  });
});
