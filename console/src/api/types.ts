// The API's shapes (lambdas/api, published at GET /openapi.json). Kept by hand, small:
// every field the console reads, named as the API names it.

export type Severity = "low" | "medium" | "high";
export type AlertStatus = "new" | "confirmed_fraud" | "legitimate";
export type VerdictLabel = "fraud" | "legit";

export const SEVERITIES: readonly Severity[] = ["high", "medium", "low"];
export const STATUSES: readonly AlertStatus[] = ["new", "confirmed_fraud", "legitimate"];

export interface Verdict {
  label: VerdictLabel;
  note: string | null;
  by: string;
  actor?: string | null;
  verdict_id?: string | null;
  at: string;
  revision: number;
}

export interface AlertSummary {
  alert_id: string;
  transaction_id: string;
  event_time: string;
  detected_at: string;
  card_id: string;
  terminal_id: string;
  amount: number;
  currency: string;
  merchant_category: string | null;
  country: string | null;
  channel: string | null;
  score: number;
  threshold: number;
  severity: Severity;
  model_version: string;
  reason_codes: string[];
  reasons: string[];
  status: AlertStatus;
  verdict: Verdict | null;
}

export interface AlertFull extends AlertSummary {
  reason_contributions: number[];
  features: Record<string, number>;
  late: boolean;
  ingested_at: string;
}

export interface Reason {
  code: string;
  text: string;
  contribution: number | null;
}

export interface Baseline {
  feature: string;
  value: number;
  /** The card's own figure to compare with. */
  baseline: number;
}

export interface AlertDetail {
  alert: AlertFull;
  reasons: Reason[];
  baselines: Baseline[];
  card_alerts: AlertSummary[];
  verdicts: Verdict[];
}

export interface AlertPage {
  items: AlertSummary[];
  next_cursor: string | null;
}

export interface AlertFilters {
  status?: AlertStatus | undefined;
  severity?: Severity | undefined;
  card_id?: string | undefined;
  terminal_id?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  min_score?: number | undefined;
  reason_code?: string | undefined;
}

export interface Metrics {
  alerts_per_hour: { hour: string; count: number }[];
  alerts_per_day: { day: string; count: number }[];
  by_severity: Partial<Record<Severity, number>>;
  by_reason_code: Record<string, number>;
  reviewed: number;
  reviewed_precision: number | null;
  median_time_to_review_s: number | null;
  model_versions: Record<string, number>;
  complete_from?: string | null;
}

export interface FeedbackRequest {
  label: VerdictLabel;
  note: string | null;
}
