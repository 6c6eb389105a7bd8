// What the console shows the moment an analyst gives a verdict, before the API answers.

import type { AlertStatus, AlertSummary, VerdictLabel } from "./api/types";

export const STATUS_OF_LABEL: Record<VerdictLabel, AlertStatus> = {
  fraud: "confirmed_fraud",
  legit: "legitimate",
};

export function optimisticAlert<T extends AlertSummary>(
  alert: T,
  label: VerdictLabel,
  note: string | null,
  by: string,
  now = new Date(),
): T {
  const previous = alert.verdict;
  const same = previous !== null && previous.label === label && previous.note === note;
  return {
    ...alert,
    status: STATUS_OF_LABEL[label],
    verdict: same
      ? previous
      : { label, note, by, at: now.toISOString(), revision: (previous?.revision ?? 0) + 1 },
  };
}
