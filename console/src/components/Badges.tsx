import type { AlertStatus, Severity } from "../api/types";
import { SEVERITY_TEXT, STATUS_TEXT } from "../format";

export function SeverityBadge({ severity }: { severity: Severity }) {
  return <span className={`badge severity-${severity}`}>{SEVERITY_TEXT[severity]}</span>;
}

export function StatusBadge(props: { status: AlertStatus; label?: string; live?: boolean }) {
  return (
    <span
      className={`badge status-${props.status}`}
      role={props.live ? "status" : undefined}
      aria-label={props.label}
    >
      {STATUS_TEXT[props.status]}
    </span>
  );
}

export function ReasonChips({ codes }: { codes: string[] }) {
  return (
    <span className="chips">
      {codes.map((code) => (
        <span key={code} className="chip">
          {code}
        </span>
      ))}
    </span>
  );
}
