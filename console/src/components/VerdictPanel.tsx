import { useState } from "react";

import type { AlertSummary, VerdictLabel } from "../api/types";
import { formatTime } from "../format";
import { ErrorBanner } from "./ErrorBanner";

export function VerdictPanel(props: {
  alert: AlertSummary;
  canGiveVerdicts: boolean;
  pending: VerdictLabel | null;
  error: string | null;
  onVerdict: (label: VerdictLabel, note: string | null) => void;
}) {
  const { alert, canGiveVerdicts, pending } = props;
  const [note, setNote] = useState("");
  const disabled = !canGiveVerdicts || pending !== null;
  const give = (label: VerdictLabel) => props.onVerdict(label, note.trim() || null);
  return (
    <section className="panel verdict" aria-labelledby="verdict-title">
      <h2 id="verdict-title">Verdict</h2>
      {alert.verdict ? (
        <p className="muted">
          {alert.verdict.label === "fraud" ? "Fraud" : "Legitimate"} by {alert.verdict.by},{" "}
          {formatTime(alert.verdict.at)} (revision {alert.verdict.revision})
        </p>
      ) : (
        <p className="muted">Not reviewed yet.</p>
      )}
      <label className="note">
        Note (optional)
        <textarea
          value={note}
          maxLength={1000}
          rows={2}
          disabled={!canGiveVerdicts}
          onChange={(e) => setNote(e.target.value)}
        />
      </label>
      <div className="verdict-buttons">
        <button
          type="button"
          className="button-fraud"
          disabled={disabled}
          aria-pressed={alert.status === "confirmed_fraud"}
          aria-busy={pending === "fraud"}
          onClick={() => give("fraud")}
        >
          Mark as fraud
        </button>
        <button
          type="button"
          className="button-legit"
          disabled={disabled}
          aria-pressed={alert.status === "legitimate"}
          aria-busy={pending === "legit"}
          onClick={() => give("legit")}
        >
          Mark as legitimate
        </button>
      </div>
      {!canGiveVerdicts && (
        <p className="note-readonly" id="reader-note">
          You are signed in as a reader: only members of the analysts group can give verdicts.
        </p>
      )}
      {pending && <p className="muted">Saving the verdict…</p>}
      <ErrorBanner message={props.error} />
    </section>
  );
}
