import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";

import type {
  AuditRecord,
  BacktestResult,
  Change,
  ListDiff,
  Rule,
  RuleHitCount,
  RuleSet,
  RuleProblem,
} from "../api/types";
import { RULE_MODES, RULE_OUTCOMES, SEVERITIES } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { isRuleAdmin } from "../auth/session";
import { BacktestChart } from "../components/BacktestChart";
import { ErrorBanner } from "../components/ErrorBanner";
import { formatPercent, formatTime, SEVERITY_TEXT } from "../format";
import {
  backtestWindow,
  changedFields,
  decisionRight,
  draftProblems,
  actorText,
  changeTitle,
  EMPTY_RULE,
  errorPlace,
  hitsByRule,
  needsApproval,
  ruleDiff,
} from "../rules";

const VALIDATE_DELAY_MS = 400;
const WINDOWS = [7, 14, 31] as const;

type Validation =
  | { state: "idle" }
  | { state: "checking" }
  | { state: "done"; ok: boolean; errors: RuleProblem[] }
  | { state: "failed"; message: string };

export function RulesPage() {
  const { api, analyst, session } = useAuth();
  const [ruleSet, setRuleSet] = useState<RuleSet | null>(null);
  const [hits, setHits] = useState<Map<string, RuleHitCount> | null>(null);
  const [hitsError, setHitsError] = useState<string | null>(null);
  const [pending, setPending] = useState<Change[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [draft, setDraft] = useState<Rule>(EMPTY_RULE);
  const [historyOf, setHistoryOf] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const [rules, changes] = await Promise.all([api.getRules(), api.listChanges("pending")]);
      setRuleSet(rules);
      setPending(changes.items);
      setError(null);
    } catch (e) {
      setError(`Could not load the rules: ${(e as Error).message}`);
    }
    try {
      setHits(hitsByRule((await api.getRuleHits(24)).items));
      setHitsError(null);
    } catch (e) {
      setHitsError(`hit counts unavailable: ${(e as Error).message}`);
    }
  }, [api]);

  useEffect(() => {
    void load();
  }, [load]);

  const current = ruleSet?.rules.find((r) => r.name === draft.name) ?? null;

  return (
    <section aria-labelledby="rules-title">
      <div className="page-head">
        <h1 id="rules-title">Rules</h1>
        <span className="muted">
          {ruleSet
            ? `Rule set ${ruleSet.version ?? "— (none published yet)"} · ${ruleSet.pending} pending`
            : ""}
        </span>
      </div>
      <ErrorBanner message={error} />
      {notice && (
        <p className="success" role="status">
          {notice}
        </p>
      )}
      <section className="panel" aria-labelledby="rules-list-title">
        <h2 id="rules-list-title">Rules in force</h2>
        {!ruleSet ? (
          !error && <p className="muted">Loading the rules…</p>
        ) : ruleSet.rules.length === 0 ? (
          <p className="empty">No rules yet.</p>
        ) : (
          <RuleTable
            rules={ruleSet.rules}
            hits={hits}
            onEdit={(rule) => setDraft(rule)}
            onHistory={(name) => setHistoryOf(name)}
          />
        )}
        {hitsError && <p className="muted">Last 24 h: {hitsError}</p>}
      </section>
      <RuleEditor
        draft={draft}
        current={current}
        canEdit={analyst}
        onChange={setDraft}
        onRequested={() => void load()}
      />
      <PendingChanges
        changes={pending}
        onDecided={(text) => {
          setNotice(text);
          void load();
        }}
        isAdmin={session !== null && isRuleAdmin(session)}
      />
      {historyOf && <RuleHistory name={historyOf} onClose={() => setHistoryOf(null)} />}
    </section>
  );
}

function RuleTable(props: {
  rules: Rule[];
  hits: Map<string, RuleHitCount> | null;
  onEdit: (rule: Rule) => void;
  onHistory: (name: string) => void;
}) {
  const ordered = [...props.rules].sort((a, b) => a.priority - b.priority);
  return (
    <table className="alerts rules">
      <caption className="visually-hidden">Rules in force, by priority</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Mode</th>
          <th scope="col">Outcome</th>
          <th scope="col" className="num">
            Priority
          </th>
          <th scope="col" className="num">
            Hits 24 h
          </th>
          <th scope="col" className="num">
            Alerts 24 h
          </th>
          <th scope="col">Expression</th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {ordered.map((rule) => {
          const counted = props.hits?.get(rule.name);
          const figure = (n: number | undefined) =>
            props.hits === null ? "—" : (n ?? 0).toLocaleString("en-GB");
          return (
            <tr key={rule.name}>
              <th scope="row" className="mono">
                {rule.name}
              </th>
              <td>
                <span className={`badge mode-${rule.mode}`}>{rule.mode}</span>
              </td>
              <td>
                {rule.outcome}
                {rule.outcome === "alert" && rule.severity
                  ? ` (${SEVERITY_TEXT[rule.severity]})`
                  : ""}
              </td>
              <td className="num">{rule.priority}</td>
              <td className="num">{figure(counted?.hits)}</td>
              <td className="num">{figure(counted?.alerts)}</td>
              <td className="mono expression-cell">{rule.expression}</td>
              <td className="nowrap">
                <button
                  type="button"
                  className="button-quiet"
                  aria-label={`Edit ${rule.name}`}
                  onClick={() => props.onEdit(rule)}
                >
                  Edit
                </button>{" "}
                <button
                  type="button"
                  className="button-quiet"
                  aria-label={`History of ${rule.name}`}
                  onClick={() => props.onHistory(rule.name)}
                >
                  History
                </button>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function RuleEditor(props: {
  draft: Rule;
  current: Rule | null;
  canEdit: boolean;
  onChange: (rule: Rule) => void;
  onRequested: () => void;
}) {
  const { api } = useAuth();
  const { draft, current, canEdit } = props;
  const [validation, setValidation] = useState<Validation>({ state: "idle" });
  const [days, setDays] = useState<number>(7);
  const [backtest, setBacktest] = useState<{ rule: string; result: BacktestResult } | null>(null);
  const [backtesting, setBacktesting] = useState(false);
  const [backtestError, setBacktestError] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  const [sending, setSending] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);
  const asked = useRef(0); // an answer for an expression no longer typed is dropped

  // Validate as the analyst types, once they pause.
  useEffect(() => {
    const expression = draft.expression;
    if (!expression.trim()) {
      setValidation({ state: "idle" });
      return;
    }
    const mine = ++asked.current;
    const timer = window.setTimeout(() => {
      setValidation({ state: "checking" });
      api
        .validateRule(expression)
        .then((answer) => {
          if (mine === asked.current) setValidation({ state: "done", ...answer });
        })
        .catch((e: Error) => {
          if (mine === asked.current) setValidation({ state: "failed", message: e.message });
        });
    }, VALIDATE_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [api, draft.expression]);

  const set = <K extends keyof Rule>(field: K, value: Rule[K]) => {
    setOutcome(null);
    props.onChange({ ...draft, [field]: value });
  };
  // The backtest belongs to the rule as it was when run (its mode aside).
  const fingerprint = JSON.stringify({ ...draft, mode: null });
  const attached = backtest && backtest.rule === fingerprint ? backtest.result : null;
  const problems = draftProblems(draft);
  const invalid = validation.state === "done" && !validation.ok;
  const waits = needsApproval(current, draft);

  async function runBacktest() {
    setBacktesting(true);
    setBacktestError(null);
    try {
      const result = await api.backtest({ rule: draft, ...backtestWindow(days) });
      setBacktest({ rule: fingerprint, result });
    } catch (e) {
      setBacktestError(`The backtest failed: ${(e as Error).message}`);
    } finally {
      setBacktesting(false);
    }
  }

  async function requestChange(event: FormEvent) {
    event.preventDefault();
    await send("upsert");
  }

  async function send(action: "upsert" | "remove") {
    setSending(true);
    setOutcome(null);
    try {
      const change = await api.requestChange(
        action === "upsert"
          ? {
              action,
              rule: { ...draft, severity: draft.outcome === "alert" ? draft.severity : null },
              reason: reason.trim(),
              backtest: attached,
            }
          : { action, rule: { name: draft.name }, reason: reason.trim(), backtest: null },
      );
      setOutcome({
        ok: true,
        text:
          change.status === "applied"
            ? `Applied: rule set ${change.ruleset_version ?? ""}`.trim()
            : "Requested: waiting for a rule-admin's approval",
      });
      setReason("");
      props.onRequested();
    } catch (e) {
      setOutcome({ ok: false, text: `The change was not requested: ${(e as Error).message}` });
    } finally {
      setSending(false);
    }
  }

  return (
    <div className="rule-grid">
      <section className="panel" aria-labelledby="editor-title">
        <div className="panel-head">
          <h2 id="editor-title">{current ? `Edit ${current.name}` : "New rule"}</h2>
          <button type="button" className="button-quiet" onClick={() => props.onChange(EMPTY_RULE)}>
            New rule
          </button>
        </div>
        <form className="rule-form" aria-label="Rule editor" onSubmit={requestChange}>
          <label>
            Name
            <input
              value={draft.name}
              className="mono"
              disabled={!canEdit}
              onChange={(e) => set("name", e.target.value.trim())}
            />
          </label>
          <label>
            Expression
            <textarea
              value={draft.expression}
              className="mono"
              rows={4}
              spellCheck={false}
              disabled={!canEdit}
              aria-invalid={invalid}
              aria-describedby="expression-check"
              onChange={(e) => set("expression", e.target.value)}
            />
          </label>
          <div id="expression-check" className="expression-check" aria-live="polite">
            <ExpressionCheck expression={draft.expression} validation={validation} />
          </div>
          <div className="form-row">
            <label>
              Outcome
              <select
                value={draft.outcome}
                disabled={!canEdit}
                onChange={(e) => set("outcome", e.target.value as Rule["outcome"])}
              >
                {RULE_OUTCOMES.map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Severity
              <select
                value={draft.severity ?? "high"}
                disabled={!canEdit || draft.outcome !== "alert"}
                onChange={(e) => set("severity", e.target.value as Rule["severity"])}
              >
                {SEVERITIES.map((s) => (
                  <option key={s} value={s}>
                    {SEVERITY_TEXT[s]}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Priority
              <input
                type="number"
                min={0}
                step={1}
                value={Number.isFinite(draft.priority) ? draft.priority : ""}
                disabled={!canEdit}
                onChange={(e) => set("priority", e.target.valueAsNumber)}
              />
            </label>
            <label>
              Mode
              <select
                value={draft.mode}
                disabled={!canEdit}
                onChange={(e) => set("mode", e.target.value as Rule["mode"])}
              >
                {RULE_MODES.map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            </label>
          </div>
          {problems.length > 0 && draft.name !== "" && (
            <ul className="field-problems">
              {problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          )}
          <label>
            Reason for the change (required)
            <textarea
              value={reason}
              rows={2}
              maxLength={500}
              disabled={!canEdit}
              onChange={(e) => setReason(e.target.value)}
            />
          </label>
          <p className="muted">
            {waits
              ? "This change waits for a second analyst of rule-admins (the rule is or becomes active)."
              : "A shadow or disabled rule is applied at once."}{" "}
            {attached ? "The backtest below is attached." : "No backtest attached yet."}
          </p>
          <div className="form-actions">
            <button
              type="submit"
              disabled={!canEdit || sending || problems.length > 0 || invalid || !reason.trim()}
            >
              {sending ? "Requesting…" : "Request change"}
            </button>
            {current && (
              <button
                type="button"
                className="button-quiet"
                disabled={!canEdit || sending || !reason.trim()}
                onClick={() => void send("remove")}
              >
                Request removal
              </button>
            )}
          </div>
          {outcome &&
            (outcome.ok ? (
              <p className="success" role="status">
                {outcome.text}
              </p>
            ) : (
              <ErrorBanner message={outcome.text} />
            ))}
          {!canEdit && (
            <p className="note-readonly">
              You are signed in as a reader: only members of the analysts group can write rules.
            </p>
          )}
        </form>
      </section>
      <section className="panel" aria-labelledby="backtest-title">
        <h2 id="backtest-title">Backtest</h2>
        <div className="form-row">
          <label className="inline">
            Window
            <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
              {WINDOWS.map((d) => (
                <option key={d} value={d}>
                  Last {d} days
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            disabled={!canEdit || backtesting || problems.length > 0 || invalid}
            onClick={() => void runBacktest()}
          >
            {backtesting ? "Running…" : "Backtest"}
          </button>
        </div>
        <ErrorBanner message={backtestError} />
        {backtest ? (
          <BacktestFigures result={backtest.result} stale={attached === null} />
        ) : (
          <p className="muted">
            Runs the draft over the decision log of the window: its hits per day, the alerts it
            would add or suppress, and its precision and recall against matured labels.
          </p>
        )}
      </section>
    </div>
  );
}

function ExpressionCheck(props: { expression: string; validation: Validation }) {
  const { validation } = props;
  switch (validation.state) {
    case "idle":
      return null;
    case "checking":
      return <span className="muted">Checking…</span>;
    case "failed":
      return <span className="muted">Could not check the expression: {validation.message}</span>;
    case "done":
      if (validation.ok) return <span className="success">The expression type-checks.</span>;
      return (
        <ul className="expression-errors">
          {validation.errors.map((error, i) => {
            const place = errorPlace(props.expression, error);
            return (
              <li key={i}>
                {place ? `Line ${place.line}, column ${place.column}: ` : ""}
                {error.message}
              </li>
            );
          })}
        </ul>
      );
  }
}

function BacktestFigures(props: { result: BacktestResult; stale: boolean }) {
  const { result } = props;
  return (
    <div aria-label="Backtest result" role="region">
      {props.stale && (
        <p className="chip chip-warn">The draft changed since: run the backtest again.</p>
      )}
      <p className="muted">
        {formatTime(result.from)} – {formatTime(result.to)}:{" "}
        {result.decisions.toLocaleString("en-GB")} decisions
      </p>
      <BacktestChart days={result.hits_per_day} label="Backtest hits per day" />
      <dl className="backtest-figures">
        <dt>Hits</dt>
        <dd>{result.hits.toLocaleString("en-GB")}</dd>
        <dt>Precision</dt>
        <dd>{formatPercent(result.precision)}</dd>
        <dt>Recall</dt>
        <dd>{formatPercent(result.recall)}</dd>
        <dt>Labelled hits</dt>
        <dd>{result.labelled_hits.toLocaleString("en-GB")}</dd>
        <dt>Overlap with the model's alerts</dt>
        <dd>{result.model_alert_overlap.toLocaleString("en-GB")}</dd>
        <dt>Alerts added</dt>
        <dd>{result.alerts_added.toLocaleString("en-GB")}</dd>
        <dt>Alerts suppressed</dt>
        <dd>{result.alerts_suppressed.toLocaleString("en-GB")}</dd>
      </dl>
      <p className="caption">Labels matured before {formatTime(result.labels_matured_before)}.</p>
    </div>
  );
}

function PendingChanges(props: {
  changes: Change[];
  isAdmin: boolean;
  onDecided: (text: string) => void;
}) {
  return (
    <section className="panel" aria-labelledby="pending-title">
      <h2 id="pending-title">Pending requests</h2>
      {props.changes.length === 0 ? (
        <p className="empty">No change waits for approval.</p>
      ) : (
        <ul className="changes">
          {props.changes.map((change) => (
            <PendingChange key={change.change_id} change={change} onDecided={props.onDecided} />
          ))}
        </ul>
      )}
      {!props.isAdmin && (
        <p className="note-readonly">
          Only members of the rule-admins group approve or reject, never their own requests.
        </p>
      )}
    </section>
  );
}

function PendingChange(props: { change: Change; onDecided: (text: string) => void }) {
  const { api, session } = useAuth();
  const { change } = props;
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const right = session ? decisionRight(change, session) : { allowed: false as const, reason: "" };
  const title = changeTitle(change);

  async function decide(approve: boolean) {
    setBusy(true);
    setError(null);
    try {
      const decided = approve
        ? await api.approveChange(change.change_id, note.trim())
        : await api.rejectChange(change.change_id, note.trim());
      const version = decided.ruleset_version ?? decided.list_version;
      props.onDecided(
        `${approve ? "Approved" : "Rejected"}: ${title}${version ? ` (version ${version})` : ""}`,
      );
    } catch (e) {
      setError(`Not ${approve ? "approved" : "rejected"}: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <li className="change" aria-label={`Request: ${title}`}>
      <div className="change-head">
        <strong className="mono">{title}</strong>
        <span className="muted">
          by {actorText(change.requested_by, session)}, {formatTime(change.requested_at)}
        </span>
      </div>
      <q>{change.reason}</q>
      <ChangeDiff diff={change.diff} />
      {change.backtest ? (
        <p className="muted">
          Backtest attached: {change.backtest.hits.toLocaleString("en-GB")} hits, precision{" "}
          {formatPercent(change.backtest.precision)}, recall {formatPercent(change.backtest.recall)}
          , {change.backtest.alerts_added.toLocaleString("en-GB")} alerts added.
        </p>
      ) : (
        <p className="muted">No backtest attached.</p>
      )}
      <div className="form-row">
        <label className="inline">
          Note
          <input value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} />
        </label>
        <button
          type="button"
          className="button-legit"
          disabled={!right.allowed || busy}
          aria-describedby={right.allowed ? undefined : `why-${change.change_id}`}
          onClick={() => void decide(true)}
        >
          Approve
        </button>
        <button
          type="button"
          className="button-fraud"
          disabled={!right.allowed || busy}
          aria-describedby={right.allowed ? undefined : `why-${change.change_id}`}
          onClick={() => void decide(false)}
        >
          Reject
        </button>
        {!right.allowed && right.reason && (
          <span className="muted" id={`why-${change.change_id}`}>
            {right.reason}
          </span>
        )}
      </div>
      <ErrorBanner message={error} />
    </li>
  );
}

function ChangeDiff(props: { diff: unknown }) {
  const rule = ruleDiff(props.diff);
  if (rule) return <DiffTable before={rule.before} after={rule.after} />;
  const counts = props.diff as Partial<ListDiff> | null;
  if (counts && typeof counts.added === "number") {
    return (
      <p className="muted">
        {counts.added.toLocaleString("en-GB")} entries added,{" "}
        {(counts.removed ?? 0).toLocaleString("en-GB")} removed
      </p>
    );
  }
  return null;
}

function DiffTable(props: { before: Rule | null; after: Rule | null }) {
  const fields = changedFields(props.before, props.after);
  if (fields.length === 0) return null;
  return (
    <table className="baselines diff">
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Before</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {fields.map((f) => (
          <tr key={f.field}>
            <th scope="row">{f.field}</th>
            <td className="mono">{f.before}</td>
            <td className="mono">{f.after}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RuleHistory(props: { name: string; onClose: () => void }) {
  const { api, session } = useAuth();
  const [items, setItems] = useState<AuditRecord[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    setItems(null);
    api
      .getRuleHistory(props.name)
      .then((history) => current && (setItems(history.items), setError(null)))
      .catch((e: Error) => current && setError(`Could not load the history: ${e.message}`));
    return () => {
      current = false;
    };
  }, [api, props.name]);
  return (
    <section className="panel" aria-labelledby="history-title">
      <div className="panel-head">
        <h2 id="history-title">History of {props.name}</h2>
        <button type="button" className="button-quiet" onClick={props.onClose}>
          Close
        </button>
      </div>
      <ErrorBanner message={error} />
      {items === null ? (
        !error && <p className="muted">Loading…</p>
      ) : items.length === 0 ? (
        <p className="empty">No recorded change.</p>
      ) : (
        <ol className="history">
          {items.map((item) => (
            <li key={`${item.change_id}-${item.action}-${item.at}`}>
              <span className="mono">{formatTime(item.at)}</span> {item.action} by{" "}
              {actorText(item.actor, session)}
              {item.note ? ` (${item.note})` : ""}
              <q>{item.reason}</q>
              <ChangeDiff diff={item.diff} />
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
