"""An analyst's verdict on an alert: recorded once per change, audited, and sent on as a
label only within the bounds of one analyst's influence.

- The same verdict again from the same analyst (label and note) changes nothing.
- A verdict is refused with 429 past the analyst's quota (`verdict_quota` in 24 hours) and
  with 422 once the alert's history holds `history_cap` verdicts (or DynamoDB finds the item
  too large): an alert can never be frozen into 500s.
- Every accepted verdict is written to the audit trail (S3 Object Lock, by `sub`) and the
  label ledger before the alert records it; the alert records it only if nobody recorded
  another since it was read (a lost race is re-read and retried, 3 times, then 409).
- Its label, when it differs from the one the stream last received (`label_written`), is
  *held* (`pending_label` on the alert): it reaches the stream when a second analyst gives
  the same label (at once), or when `label_hold_s` has passed without a change (the
  scheduled release step, lambdas/api/release.py). A changed verdict replaces or withdraws
  the held label. Past `terminal_label_budget` labels on one terminal in 30 days from one
  analyst alone, a label waits for a second analyst and is never released by time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.card_number import mask_card_numbers

from .audit import AuditTrail
from .auth import Principal
from .labels import LabelWriter, label_record
from .ledger import CONFIRMED, HELD, NEEDS_CONFIRMATION, NO_LABEL, LabelLedger, LedgerEntry
from .models import STATUS_OF_LABEL
from .repository import (
    AlertNotFoundError,
    AlertRepository,
    AlertTooLargeError,
    RevisionConflictError,
    iso,
)
from .watch import LabelWatch

ATTEMPTS = 3
QUOTA_WINDOW = timedelta(hours=24)
#: The terminal-risk window the budget covers: the job's widest (30 days).
BUDGET_WINDOW = timedelta(days=30)


class QuotaExceededError(RuntimeError):
    """The analyst gave `verdict_quota` verdicts in the last 24 hours: 429."""


class HistoryFullError(RuntimeError):
    """The alert's history is full (or its item would pass DynamoDB's size limit): 422."""


@dataclass(frozen=True)
class Bounds:
    hold: timedelta = timedelta(days=1)
    verdict_quota: int = 200
    terminal_label_budget: int = 3
    history_cap: int = 20


class VerdictService:
    def __init__(
        self,
        repository: AlertRepository,
        labels: LabelWriter,
        ledger: LabelLedger,
        audit: AuditTrail,
        bounds: Bounds = Bounds(),
        watch: LabelWatch | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._repository = repository
        self._labels = labels
        self._ledger = ledger
        self._audit = audit
        self.bounds = bounds
        self.watch = watch or LabelWatch()
        self._now = now

    def give(self, alert_id: str, label: str, note: str | None, by: Principal) -> dict[str, Any]:
        """The alert after the verdict; AlertNotFoundError, QuotaExceededError,
        HistoryFullError, or RevisionConflictError when other verdicts kept winning."""
        note = mask_card_numbers(note) if note else None
        for _ in range(ATTEMPTS):
            alert = self._repository.get(alert_id)
            if alert is None:
                raise AlertNotFoundError(alert_id)
            current = alert.get("verdict")
            if (
                current
                and current["label"] == label
                and current.get("note") == note
                and current.get("actor") == by.subject
            ):
                return alert
            self._check_bounds(alert, by)
            try:
                return self._record(alert, label, note, by, current)
            except RevisionConflictError:
                continue
            except AlertTooLargeError:
                self.watch.verdict_refused("history")
                raise HistoryFullError(alert_id) from None
        raise RevisionConflictError(alert_id)

    def _check_bounds(self, alert: dict[str, Any], by: Principal) -> None:
        if len(alert.get("verdicts") or []) >= self.bounds.history_cap:
            self.watch.verdict_refused("history")
            raise HistoryFullError(alert["alert_id"])
        since = self._now() - QUOTA_WINDOW
        quota = self.bounds.verdict_quota
        if self._ledger.verdicts_since(by.subject, since, quota) >= quota:
            self.watch.verdict_refused("quota")
            raise QuotaExceededError(by.subject)

    def _record(
        self,
        alert: dict[str, Any],
        label: str,
        note: str | None,
        by: Principal,
        current: dict[str, Any] | None,
    ) -> dict[str, Any]:
        now = self._now()
        at = iso(now)
        verdict_id = uuid.uuid4().hex
        revision = (int(current["revision"]) if current else 0) + 1
        verdict = {
            "label": label,
            "note": note,
            "by": by.name,
            "actor": by.subject,
            "verdict_id": verdict_id,
            "at": at,
            "revision": revision,
        }
        pending = alert.get("pending_label")
        state, new_pending, release_after, solo = self._label_outcome(
            alert, label, by, verdict, now
        )
        if label == "fraud" and state in (HELD, NEEDS_CONFIRMATION):
            self.watch.fraud_label_asked(by.subject, str(alert["terminal_id"]))
        self._audit.append(
            {
                **verdict,
                "alert_id": alert["alert_id"],
                "transaction_id": alert["transaction_id"],
                "terminal_id": alert["terminal_id"],
                "label_state": state,
                "confirms": pending["verdict_id"] if state == CONFIRMED and pending else None,
            }
        )
        self._ledger.add(
            LedgerEntry(
                actor=by.subject,
                verdict_id=verdict_id,
                at=at,
                alert_id=str(alert["alert_id"]),
                terminal_id=str(alert["terminal_id"]),
                label=label,
                state=state,
                release_after=release_after,
                solo=solo,
            )
        )
        recorded = self._repository.record_verdict(
            str(alert["alert_id"]),
            verdict,
            STATUS_OF_LABEL[label],
            revision - 1,
            pending=new_pending,
        )
        if state == CONFIRMED and pending:
            recorded = self.release(recorded, pending)
            self._ledger.settle(
                pending["actor"], f"{pending['at']}#{pending['verdict_id']}", CONFIRMED
            )
        return recorded

    def _label_outcome(
        self,
        alert: dict[str, Any],
        label: str,
        by: Principal,
        verdict: dict[str, Any],
        now: datetime,
    ) -> tuple[str, dict[str, Any] | None, str | None, bool]:
        """(ledger state, the alert's held label after this verdict, release time, whether
        the label is asked for on this analyst's word alone)."""
        pending = alert.get("pending_label")
        if label == alert.get("label_written"):
            return NO_LABEL, None, None, False  # the stream has it: withdraw any held one
        if pending and pending["label"] == label:
            if pending["actor"] != by.subject:
                return CONFIRMED, pending, None, False
            return NO_LABEL, pending, None, False  # the same analyst again: still held
        held = {
            "label": label,
            "actor": by.subject,
            "verdict_id": verdict["verdict_id"],
            "at": verdict["at"],
        }
        release_after = iso(now + self.bounds.hold)
        if pending and pending["actor"] == by.subject:
            # The analyst changes their own held label: it keeps its place in the budget
            # (one alert, one label in force) and its hold starts again.
            if pending.get("release_after") is None:
                return NEEDS_CONFIRMATION, {**held, "release_after": None}, None, False
            return HELD, {**held, "release_after": release_after}, release_after, False
        budget = self.bounds.terminal_label_budget
        used = self._ledger.solo_labels_since(
            by.subject, str(alert["terminal_id"]), now - BUDGET_WINDOW, budget
        )
        if used >= budget:
            return NEEDS_CONFIRMATION, {**held, "release_after": None}, None, False
        return HELD, {**held, "release_after": release_after}, release_after, True

    def release(self, alert: dict[str, Any], pending: dict[str, Any]) -> dict[str, Any]:
        """Send the held label (Label v1 with its analyst's `sub` and verdict id) and
        record that the stream has it. At least once: a failed put leaves it held."""
        record = label_record(
            alert,
            pending["label"],
            pending["at"],
            actor=pending["actor"],
            verdict_id=pending["verdict_id"],
        )
        self._labels.put(record)
        return self._repository.mark_label_written(
            str(alert["alert_id"]), pending["label"], pending["verdict_id"]
        )
