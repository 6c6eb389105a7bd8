"""Analyst verdicts as Label v1 records on the `labels` stream (README, "Contracts")."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from contracts.label import LABEL_V1

if TYPE_CHECKING:
    from mypy_boto3_kinesis import KinesisClient

ANALYST = "analyst"


def label_record(
    alert: dict[str, Any], label: str, reported_at: str, *, actor: str, verdict_id: str
) -> dict[str, str]:
    """Label v1 for the alert's transaction: the fields of a chargeback, `source: analyst`,
    and who said it (`actor`: the token's `sub`; `verdict_id`: its audit record). Every
    other contract field is the alert's field of the same name (Alert v1 carries the
    transaction's ids and event time)."""
    verdict = {
        "label": label,
        "source": ANALYST,
        "reported_at": reported_at,
        "actor": actor,
        "verdict_id": verdict_id,
    }
    return {name: verdict[name] if name in verdict else alert[name] for name in LABEL_V1.names()}


class LabelWriter:
    def __init__(self, kinesis: KinesisClient, stream: str) -> None:
        self._kinesis = kinesis
        self._stream = stream

    def put(self, record: dict[str, str]) -> None:
        """One record, partition key the card (as the job's label source expects)."""
        self._kinesis.put_record(
            StreamName=self._stream,
            Data=json.dumps(record, separators=(",", ":")).encode(),
            PartitionKey=record["card_id"],
        )
