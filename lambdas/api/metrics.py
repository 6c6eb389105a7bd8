"""The figures of `GET /metrics`, computed from the alerts of the last N days."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from .models import DayCount, HourCount, Metrics
from .repository import AlertRepository

ATTRIBUTES = (
    "detected_at",
    "severity",
    "reason_codes",
    "status",
    "model_version",
    "reviewed_at",
)


#: Alerts of one status one request reads at most: `GET /metrics` is bounded work
#: (3 statuses: at most 3 x this items, a few pages each of the attributes above).
MAX_ALERTS_PER_STATUS = 5_000


def read_alerts(
    repository: AlertRepository, now: datetime, days: int, per_status: int = MAX_ALERTS_PER_STATUS
) -> tuple[list[dict[str, Any]], str | None]:
    """The alerts detected since the start of the (UTC) day `days` - 1 days before today,
    newest first and at most `per_status` of each status; and from when the figures are
    complete when that cut the window short (None: the whole window)."""
    first_day = now.astimezone(UTC).date() - timedelta(days=days - 1)
    since = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
    return repository.detected_since(since, ATTRIBUTES, per_status)


def compute(alerts: Iterable[dict[str, Any]], complete_from: str | None = None) -> Metrics:
    alerts = list(alerts)
    hours = Counter(f"{a['detected_at'][:13]}:00:00Z" for a in alerts)
    days = Counter(a["detected_at"][:10] for a in alerts)
    reviewed = [a for a in alerts if a.get("status") in ("confirmed_fraud", "legitimate")]
    frauds = sum(1 for a in reviewed if a["status"] == "confirmed_fraud")
    waits = [
        (_parse(a["reviewed_at"]) - _parse(a["detected_at"])).total_seconds()
        for a in reviewed
        if a.get("reviewed_at")
    ]
    return Metrics(
        alerts_per_hour=[HourCount(hour=h, count=n) for h, n in sorted(hours.items())],
        alerts_per_day=[DayCount(day=d, count=n) for d, n in sorted(days.items())],
        by_severity=dict(Counter(str(a.get("severity")) for a in alerts)),
        by_reason_code=dict(Counter(c for a in alerts for c in a.get("reason_codes", []))),
        reviewed=len(reviewed),
        reviewed_precision=frauds / len(reviewed) if reviewed else None,
        median_time_to_review_s=statistics.median(waits) if waits else None,
        model_versions=dict(Counter(str(a.get("model_version")) for a in alerts)),
        complete_from=complete_from,
    )


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
