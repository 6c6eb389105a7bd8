"""An analyst's verdict on an alert: recorded once per change, and sent on as a label.

- The same verdict again (label and note) changes nothing and writes nothing.
- A changed verdict is revision + 1 in the alert's history, recorded only if nobody else
  recorded one since it was read (a conditional update; a lost race is re-read, retried).
- The labels stream gets a Label v1 whenever the alert's label differs from the last one
  the stream received (`label_written`): a first verdict and a changed label write one; a
  changed note alone does not (Label v1 has no note). A put that failed is repaired by the
  next request for the same verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from contracts.card_number import mask_card_numbers

from .auth import Principal
from .labels import LabelWriter, label_record
from .models import STATUS_OF_LABEL
from .repository import AlertNotFoundError, AlertRepository, RevisionConflictError, iso

ATTEMPTS = 3


class VerdictService:
    def __init__(
        self,
        repository: AlertRepository,
        labels: LabelWriter,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._repository = repository
        self._labels = labels
        self._now = now

    def give(self, alert_id: str, label: str, note: str | None, by: Principal) -> dict[str, Any]:
        """The alert after the verdict; AlertNotFoundError, or RevisionConflictError when
        other verdicts kept winning the race."""
        note = mask_card_numbers(note) if note else None
        for _ in range(ATTEMPTS):
            alert = self._repository.get(alert_id)
            if alert is None:
                raise AlertNotFoundError(alert_id)
            current = alert.get("verdict")
            if current and current["label"] == label and current.get("note") == note:
                return self._send_label(alert)
            revision = (int(current["revision"]) if current else 0) + 1
            verdict = {
                "label": label,
                "note": note,
                "by": by.name,
                "at": iso(self._now()),
                "revision": revision,
            }
            try:
                alert = self._repository.record_verdict(
                    alert_id, verdict, STATUS_OF_LABEL[label], revision - 1
                )
            except RevisionConflictError:
                continue
            return self._send_label(alert)
        raise RevisionConflictError(alert_id)

    def _send_label(self, alert: dict[str, Any]) -> dict[str, Any]:
        verdict = alert["verdict"]
        if alert.get("label_written") != verdict["label"]:
            self._labels.put(label_record(alert, verdict["label"], verdict["at"]))
            self._repository.mark_label_written(alert["alert_id"], verdict["label"])
            alert = {**alert, "label_written": verdict["label"]}
        return alert
