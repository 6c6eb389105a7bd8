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

// --- Rules, change requests, lists (issue 24; the contract: GET/POST /rules…, /lists…) ---

export type RuleOutcome = "alert" | "suppress" | "tag";
export type RuleMode = "shadow" | "active" | "disabled";
export type ChangeStatus = "pending" | "applied" | "rejected";
export type ListKind = "card_id" | "terminal_id" | "device_id" | "country" | "merchant_category";

// contracts/rules.py: OUTCOMES, MODES, LIST_KINDS, NAME_PATTERN, MIN/MAX_PRIORITY
export const RULE_OUTCOMES: readonly RuleOutcome[] = ["alert", "suppress", "tag"];
export const RULE_MODES: readonly RuleMode[] = ["shadow", "active", "disabled"];
export const LIST_KINDS: readonly ListKind[] = [
  "card_id",
  "terminal_id",
  "device_id",
  "country",
  "merchant_category",
];
export const NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
export const MAX_PRIORITY = 1_000_000;
export const MAX_REASON_CHARS = 500;

export interface Rule {
  name: string;
  expression: string;
  outcome: RuleOutcome;
  severity: Severity | null;
  priority: number;
  mode: RuleMode;
}

export interface RuleSet {
  version: string | null;
  rules: Rule[];
  pending: number;
}

export interface RuleProblem {
  message: string;
  position: number | null;
}

export interface ValidateResponse {
  ok: boolean;
  errors: RuleProblem[];
}

export interface DayHits {
  day: string;
  hits: number;
  alerts_added: number;
  alerts_suppressed: number;
}

export interface BacktestRequest {
  rule: Rule;
  from: string;
  to: string;
}

export interface BacktestResult {
  from: string;
  to: string;
  decisions: number;
  hits: number;
  hits_per_day: DayHits[];
  labelled_hits: number;
  precision: number | null;
  recall: number | null;
  model_alert_overlap: number;
  alerts_added: number;
  alerts_suppressed: number;
  labels_matured_before: string;
}

export interface RuleHitCount {
  rule: string;
  hits: number;
  alerts: number;
}

export interface RuleHits {
  hours: number;
  items: RuleHitCount[];
}

export interface RuleDiff {
  before: Rule | null;
  after: Rule | null;
}

/** A list change's diff: how many entries it adds (or replaces) and removes. */
export interface ListDiff {
  added: number;
  removed: number;
}

export interface Change {
  change_id: string;
  kind: "rule" | "list";
  action: "upsert" | "remove" | "create" | "add" | "delete";
  /** The rule's name (a rule change). */
  rule?: string | null;
  /** The list's name (a list change). */
  list?: string | null;
  entries?: ListEntry[] | null;
  values?: string[] | null;
  reason: string;
  status: ChangeStatus;
  requested_by: string;
  requested_at: string;
  decided_by?: string | null;
  decided_at?: string | null;
  note?: string | null;
  base_version: string | null;
  ruleset_version?: string | null;
  list_version?: string | null;
  backtest?: BacktestResult | null;
  diff: RuleDiff | ListDiff;
}

export interface ChangeRequest {
  action: "upsert" | "remove";
  rule: Rule | { name: string };
  reason: string;
  backtest: BacktestResult | null;
}

export interface ChangePage {
  items: Change[];
}

export interface AuditRecord {
  at: string;
  actor: string;
  action: string;
  change_id: string;
  rule?: string | null;
  list?: string | null;
  reason: string;
  note?: string | null;
  diff: RuleDiff | ListDiff | Record<string, unknown>;
}

export interface History {
  items: AuditRecord[];
}

export interface ListSummary {
  name: string;
  kind: ListKind;
  version: string;
  entries: number;
  suppressing: boolean;
}

export interface ListPage {
  items: ListSummary[];
}

export interface ListEntry {
  value: string;
  reason: string;
  added_by: string;
  expires_at: string | null;
}

export interface EntryPage {
  items: ListEntry[];
  cursor: string | null;
  total: number;
}

export interface EntryIn {
  value: string;
  reason: string;
  expires_at?: string | null;
}
