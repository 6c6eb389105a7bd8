"""The scheduled release step: held analyst labels whose hold has passed without a change go
to the `labels` stream (EventBridge runs `release_handler` every few minutes; locally tests
and the console server call `release_due`).

Each due ledger entry is released only if its alert still holds that very verdict's label
(a reversal or a newer verdict withdrew it); either way it leaves the held index. At most
RELEASES_PER_RUN a run: bounded work, the rest wait for the next run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from .ledger import RELEASED, WITHDRAWN
from .services import Services, services

logger = Logger(service="api-release")
RELEASES_PER_RUN = 200


def release_due(current: Services, now: datetime, limit: int = RELEASES_PER_RUN) -> int:
    """Release the held labels due at `now`; how many reached the stream."""
    released = 0
    for entry in current.ledger.due(now, limit):
        alert = current.repository.get(str(entry["alert_id"]))
        pending = (alert or {}).get("pending_label")
        key = f"{entry['at']}#{entry['verdict_id']}"
        if alert is None or not pending or pending.get("verdict_id") != entry["verdict_id"]:
            current.ledger.settle(str(entry["actor"]), key, WITHDRAWN)
            continue
        current.verdicts.release(alert, pending)
        current.ledger.settle(str(entry["actor"]), key, RELEASED)
        released += 1
    return released


def release_handler(event: dict[str, Any], context: LambdaContext | None) -> dict[str, int]:
    released = release_due(services(), datetime.now(UTC))
    logger.info("held labels released", extra={"released": released})
    return {"released": released}
