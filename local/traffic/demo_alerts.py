"""Alert v1 records as the Flink job writes them, for demos and tests of the fan-out, the
API and the console without running the job; and putting them on the alerts stream."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.alert import ALERT_ID_HEX_CHARS, ALERT_ID_PREFIX, ALERT_V1
from local.aws import LocalAws
from udfs.reasons import reason_code

THRESHOLD = 0.41
SCORES = {"low": 0.5, "medium": 0.7, "high": 0.93}  # one in each band (tests/test_contracts)
CARD_AVERAGE = 99.1
REASON_FEATURES = ("amount_over_card_avg_30d", "card_terminal_seen_30d")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def example_alert(
    transaction_id: str,
    card_id: str,
    severity: str = "high",
    detected_at: datetime | None = None,
    amount: float = 812.5,
) -> dict[str, Any]:
    """An Alert v1 as the Flink job writes it (contracts.alert): its features are the job's
    (flink_job.features), its reason codes theirs upper-cased (udfs.reasons), its score in
    the band of `severity`."""
    digest = hashlib.sha256(f"{ALERT_ID_PREFIX}{transaction_id}".encode()).hexdigest()
    detected = detected_at or datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    score = SCORES[severity]
    features = {
        "amount": amount,
        "card_avg_amount_30d": CARD_AVERAGE,
        "amount_over_card_avg_30d": round(amount / CARD_AVERAGE, 3),
        "card_txn_count_1h": 3.0,
        "card_terminal_seen_30d": 0.0,
    }
    alert = {
        "schema": ALERT_V1.schema,
        "alert_id": digest[:ALERT_ID_HEX_CHARS],
        "transaction_id": transaction_id,
        "event_time": _iso(detected - timedelta(milliseconds=180)),
        "card_id": card_id,
        "terminal_id": f"term_{int(digest[32:40], 16) % 100:05d}",
        "amount": amount,
        "currency": "EUR",
        "merchant_category": "5411",
        "country": "FR",
        "channel": "pos",
        "score": score,
        "threshold": THRESHOLD,
        "severity": severity,
        "model_version": "m-20261128-1200-3f2a9c1",
        "reasons": [
            f"amount is {amount / CARD_AVERAGE:.1f} times the card's 30-day average",
            "terminal not used by this card in 30 days",
        ],
        "reason_codes": [reason_code(name) for name in REASON_FEATURES],
        "reason_contributions": [
            round((score - THRESHOLD) * 0.6, 4),
            round((score - THRESHOLD) * 0.3, 4),
        ],
        "features": features,
        "late": False,
        "ingested_at": _iso(detected - timedelta(milliseconds=80)),
        "detected_at": _iso(detected),
    }
    return alert


def demo_alerts(count: int, cards: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    start = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    return [
        example_alert(
            f"t-{index:06d}",
            f"card_{rng.randrange(cards):06d}",
            severity=rng.choice(("low", "medium", "high", "high")),
            detected_at=start + timedelta(seconds=7 * index),
            amount=round(rng.uniform(20, 2000), 2),
        )
        for index in range(count)
    ]


def put_alerts(
    aws: LocalAws, alerts: Sequence[dict[str, Any] | str], stream: str = "alerts"
) -> None:
    kinesis = aws.client("kinesis")
    for alert in alerts:
        data = alert if isinstance(alert, str) else json.dumps(alert, ensure_ascii=False)
        key = alert["card_id"] if isinstance(alert, dict) else "malformed"
        kinesis.put_record(StreamName=stream, Data=data.encode(), PartitionKey=key)
