// Display formats, one place: amounts, scores, times, durations, names of codes.

import type { AlertStatus, Severity } from "./api/types";

export function formatAmount(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat("en-GB", { style: "currency", currency }).format(amount);
  } catch {
    return `${amount.toFixed(2)} ${currency}`;
  }
}

export function formatScore(score: number): string {
  return score.toFixed(3);
}

export function formatPercent(share: number | null): string {
  return share === null ? "—" : `${(share * 100).toFixed(1)} %`;
}

/** "2026-11-28 12:00:07 UTC": analysts compare times across regions. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return "—";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString("en-GB");
  return value.toLocaleString("en-GB", { maximumFractionDigits: 3 });
}

export const STATUS_TEXT: Record<AlertStatus, string> = {
  new: "New",
  confirmed_fraud: "Confirmed fraud",
  legitimate: "Legitimate",
};

export const SEVERITY_TEXT: Record<Severity, string> = {
  high: "High",
  medium: "Medium",
  low: "Low",
};

/** "CARD_TXN_COUNT_1H" / "card_txn_count_1h" → "card txn count 1h". */
export function humanName(code: string): string {
  return code.toLowerCase().replace(/_/g, " ");
}

/** The "(typical X)" figure of a reason text (udfs/reasons.py writes it), or null. */
export function typicalFromReason(text: string): number | null {
  const match = /\(typical ([-\d.,]+)/.exec(text);
  if (!match?.[1]) return null;
  const value = Number(match[1].replace(/,/g, ""));
  return Number.isFinite(value) ? value : null;
}

/** "2026-11-30T09:15:00Z" -> "2026-11-30T09:15" (a datetime-local input, read as UTC). */
export function localInput(rfc3339: string | undefined): string {
  return rfc3339 ? rfc3339.slice(0, 16) : "";
}

/** "2026-11-30T09:15" (UTC) -> "2026-11-30T09:15:00Z". */
export function utcFromInput(value: string): string | undefined {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) ? `${value}:00Z` : undefined;
}
