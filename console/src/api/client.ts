// The one module that talks to the API: typed calls, errors as ApiError with the status
// and the API's own message (a 422 names the field, a 403 says why).

import type {
  AlertDetail,
  AlertFilters,
  AlertPage,
  AlertSummary,
  BacktestRequest,
  BacktestResult,
  Change,
  ChangePage,
  ChangeRequest,
  ChangeStatus,
  EntryPage,
  FeedbackRequest,
  History,
  ListKind,
  ListPage,
  ListSummary,
  Metrics,
  EntryIn,
  RuleHits,
  RuleSet,
  ValidateResponse,
} from "./types";

export class ApiError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

/** The query string of GET /alerts: empty filters are left out. */
export function alertsQuery(filters: AlertFilters, cursor?: string | null, limit = 50): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) {
    if (value === undefined || value === null || value === "") continue;
    params.set(name, String(value));
  }
  params.set("limit", String(limit));
  if (cursor) params.set("cursor", cursor);
  return params.toString();
}

/** The query string of GET /lists/{name}/entries: a prefix, a page size, the cursor. */
export function entriesQuery(q: string, cursor?: string | null, limit = 50): string {
  const params = new URLSearchParams();
  if (q) params.set("q", q);
  params.set("limit", String(limit));
  if (cursor) params.set("cursor", cursor);
  return params.toString();
}

/** The message of an error body, whatever shape the API gave it. */
export function errorMessage(status: number, body: unknown): string {
  if (body && typeof body === "object") {
    const record = body as Record<string, unknown>;
    for (const key of ["message", "detail", "error"]) {
      const value = record[key];
      if (typeof value === "string" && value) return value;
      if (Array.isArray(value) && value.length > 0) {
        return value
          .map((item) => {
            if (item && typeof item === "object") {
              const entry = item as Record<string, unknown>;
              const where = Array.isArray(entry.loc) ? entry.loc.join(".") : "";
              const what = typeof entry.msg === "string" ? entry.msg : JSON.stringify(item);
              return where ? `${where}: ${what}` : what;
            }
            return String(item);
          })
          .join("; ");
      }
    }
  }
  return `HTTP ${status}`;
}

export type TokenSource = () => string | null;

export class ApiClient {
  private readonly baseUrl: string;
  private readonly token: TokenSource;
  private readonly onUnauthorized: () => void;

  constructor(baseUrl: string, token: TokenSource, onUnauthorized: () => void = () => {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.token = token;
    this.onUnauthorized = onUnauthorized;
  }

  listAlerts(filters: AlertFilters, cursor?: string | null, limit = 50): Promise<AlertPage> {
    return this.request<AlertPage>("GET", `/alerts?${alertsQuery(filters, cursor, limit)}`);
  }

  getAlert(alertId: string): Promise<AlertDetail> {
    return this.request<AlertDetail>("GET", `/alerts/${encodeURIComponent(alertId)}`);
  }

  async postFeedback(alertId: string, feedback: FeedbackRequest): Promise<AlertSummary> {
    const path = `/alerts/${encodeURIComponent(alertId)}/feedback`;
    const body = await this.request<{ alert: AlertSummary }>("POST", path, feedback);
    return body.alert;
  }

  getMetrics(days: number): Promise<Metrics> {
    return this.request<Metrics>("GET", `/metrics?days=${days}`);
  }

  // --- rules (issue 24) ---

  getRules(): Promise<RuleSet> {
    return this.request<RuleSet>("GET", "/rules");
  }

  validateRule(expression: string): Promise<ValidateResponse> {
    return this.request<ValidateResponse>("POST", "/rules/validate", { expression });
  }

  backtest(body: BacktestRequest): Promise<BacktestResult> {
    return this.request<BacktestResult>("POST", "/rules/backtest", body);
  }

  getRuleHits(hours = 24): Promise<RuleHits> {
    return this.request<RuleHits>("GET", `/rules/hits?hours=${hours}`);
  }

  getRuleHistory(name: string): Promise<History> {
    return this.request<History>("GET", `/rules/${encodeURIComponent(name)}/history`);
  }

  requestChange(body: ChangeRequest): Promise<Change> {
    return this.request<Change>("POST", "/rules/changes", body);
  }

  listChanges(status: ChangeStatus): Promise<ChangePage> {
    return this.request<ChangePage>("GET", `/rules/changes?status=${status}`);
  }

  approveChange(changeId: string, note: string): Promise<Change> {
    const path = `/rules/changes/${encodeURIComponent(changeId)}/approve`;
    return this.request<Change>("POST", path, { note });
  }

  rejectChange(changeId: string, note: string): Promise<Change> {
    const path = `/rules/changes/${encodeURIComponent(changeId)}/reject`;
    return this.request<Change>("POST", path, { note });
  }

  // --- lists (issue 24) ---

  getLists(): Promise<ListPage> {
    return this.request<ListPage>("GET", "/lists");
  }

  createList(name: string, kind: ListKind): Promise<ListSummary> {
    return this.request<ListSummary>("POST", "/lists", { name, kind });
  }

  listEntries(name: string, q: string, cursor?: string | null, limit = 50): Promise<EntryPage> {
    const path = `/lists/${encodeURIComponent(name)}/entries?${entriesQuery(q, cursor, limit)}`;
    return this.request<EntryPage>("GET", path);
  }

  addEntries(name: string, entries: EntryIn[], reason: string): Promise<Change> {
    const path = `/lists/${encodeURIComponent(name)}/entries`;
    return this.request<Change>("POST", path, { entries, reason });
  }

  uploadEntries(name: string, csv: string, reason: string): Promise<Change> {
    const path = `/lists/${encodeURIComponent(name)}/entries`;
    return this.request<Change>("POST", path, { csv, reason });
  }

  removeEntries(name: string, values: string[], reason: string): Promise<Change> {
    const path = `/lists/${encodeURIComponent(name)}/entries`;
    return this.request<Change>("DELETE", path, { values, reason });
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    const token = this.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, `the API could not be reached (${String(error)})`);
    }
    const text = await response.text();
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { message: text.slice(0, 200) };
      }
    }
    if (!response.ok) {
      if (response.status === 401) this.onUnauthorized();
      throw new ApiError(response.status, errorMessage(response.status, parsed));
    }
    return parsed as T;
  }
}
