import { useEffect, useState, type FormEvent } from "react";

import { SEVERITIES, STATUSES, type AlertFilters } from "../api/types";
import { localInput, SEVERITY_TEXT, STATUS_TEXT, utcFromInput } from "../format";

interface Draft {
  status: string;
  severity: string;
  card_id: string;
  terminal_id: string;
  min_score: string;
  reason_code: string;
  from: string;
  to: string;
}

function draftOf(filters: AlertFilters): Draft {
  return {
    status: filters.status ?? "",
    severity: filters.severity ?? "",
    card_id: filters.card_id ?? "",
    terminal_id: filters.terminal_id ?? "",
    min_score: filters.min_score === undefined ? "" : String(filters.min_score),
    reason_code: filters.reason_code ?? "",
    from: localInput(filters.from),
    to: localInput(filters.to),
  };
}

export function FilterBar(props: {
  filters: AlertFilters;
  reasonCodes: string[];
  onApply: (filters: AlertFilters) => void;
}) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(props.filters));
  useEffect(() => setDraft(draftOf(props.filters)), [props.filters]);

  const set = (name: keyof Draft) => (event: { target: { value: string } }) =>
    setDraft((d) => ({ ...d, [name]: event.target.value }));

  function submit(event: FormEvent) {
    event.preventDefault();
    const minScore = draft.min_score.trim() === "" ? undefined : Number(draft.min_score);
    props.onApply({
      status: (draft.status || undefined) as AlertFilters["status"],
      severity: (draft.severity || undefined) as AlertFilters["severity"],
      card_id: draft.card_id.trim() || undefined,
      terminal_id: draft.terminal_id.trim() || undefined,
      min_score: minScore !== undefined && Number.isFinite(minScore) ? minScore : undefined,
      reason_code: draft.reason_code.trim().toUpperCase() || undefined,
      from: utcFromInput(draft.from),
      to: utcFromInput(draft.to),
    });
  }

  return (
    <form className="filters" aria-label="Alert filters" onSubmit={submit}>
      <div className="field">
        <label htmlFor="filter-status">Status</label>
        <select id="filter-status" value={draft.status} onChange={set("status")}>
          <option value="">Any</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {STATUS_TEXT[s]}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="filter-severity">Severity</label>
        <select id="filter-severity" value={draft.severity} onChange={set("severity")}>
          <option value="">Any</option>
          {SEVERITIES.map((s) => (
            <option key={s} value={s}>
              {SEVERITY_TEXT[s]}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="filter-card">Card</label>
        <input
          id="filter-card"
          value={draft.card_id}
          onChange={set("card_id")}
          placeholder="card_000123"
        />
      </div>
      <div className="field">
        <label htmlFor="filter-terminal">Terminal</label>
        <input
          id="filter-terminal"
          value={draft.terminal_id}
          onChange={set("terminal_id")}
          placeholder="term_00042"
        />
      </div>
      <div className="field">
        <label htmlFor="filter-min-score">Min score</label>
        <input
          id="filter-min-score"
          type="number"
          min={0}
          max={1}
          step={0.01}
          value={draft.min_score}
          onChange={set("min_score")}
          placeholder="0.00"
        />
      </div>
      <div className="field">
        <label htmlFor="filter-reason-code">Reason code</label>
        <input
          id="filter-reason-code"
          value={draft.reason_code}
          onChange={set("reason_code")}
          list="reason-codes"
          placeholder="AMOUNT"
        />
        <datalist id="reason-codes">
          {props.reasonCodes.map((code) => (
            <option key={code} value={code} />
          ))}
        </datalist>
      </div>
      <div className="field">
        <label htmlFor="filter-from">From (UTC)</label>
        <input id="filter-from" type="datetime-local" value={draft.from} onChange={set("from")} />
      </div>
      <div className="field">
        <label htmlFor="filter-to">To (UTC)</label>
        <input id="filter-to" type="datetime-local" value={draft.to} onChange={set("to")} />
      </div>
      <div className="filter-actions">
        <button type="submit">Apply filters</button>
        <button type="button" className="button-quiet" onClick={() => props.onApply({})}>
          Clear
        </button>
      </div>
    </form>
  );
}
