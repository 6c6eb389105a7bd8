"""One hostile record affects only itself: the sample replayed through the real job on
Kinesis, in bursts with quiet periods longer than the idle timeout, gives the same alerts,
with the same features, with hostile records of both streams inserted as without them.

Hostile transactions: an event time in 2099, an amount of 1e400, invalid UTF-8, a record of
900 KB of control characters that JSON escapes six-fold (its dead letter must still fit a
Kinesis record), card numbers, and a producer's retry of a
real transaction. Hostile labels: reported in 2099 (which, once trusted, made every later
transaction silently disappear), malformed. The model alerts on every transaction, so every
transaction's features are compared."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from local.aws import LocalAws
from local.demo import malformed_records
from local.flink.running import RunningPipeline, wait_for, wait_quiet
from local.traffic.replay import Record, read_records
from tests.test_registry import write_model

pytestmark = pytest.mark.integration

LABELS = Path(__file__).resolve().parent.parent / "sample_data" / "sample_labels.jsonl"
TRANSACTIONS = 2_400
BURSTS = 3
QUIET_S = 4.0  # longer than the idle timeout (1 s): every input goes idle between bursts
RATE = 2_000


def hostile_transactions(first: str) -> list[Record]:
    huge = b'{"transaction_id": "huge", "note": "' + b"\x01" * 900_000 + b'"}'  # 6x escaped
    retry = first  # the same record again: a producer that timed out and sent it twice
    return [*malformed_records(), huge, retry]


def hostile_labels(reference: dict[str, Any]) -> list[str]:
    future = {**reference, "reported_at": "2099-01-01T00:00:00.000Z", "label": "fraud"}
    return [json.dumps(future), "not json", json.dumps({**reference, "label": "maybe"})]


def put(pipeline: RunningPipeline, stream: str, records: Sequence[Record]) -> None:
    for start in range(0, len(records), 100):
        chunk = records[start : start + 100]
        pipeline.kinesis.put_records(
            StreamName=stream,
            Records=[
                {"Data": r if isinstance(r, bytes) else r.encode(), "PartitionKey": "p"}
                for r in chunk
            ],
        )


def run(model: Path, hostile: bool) -> dict[str, dict[str, Any]]:
    records = sorted(
        (r for r in read_records(Path("sample_data/sample_transactions.jsonl"))),
        key=lambda r: json.loads(r)["event_time"],
    )[:TRANSACTIONS]
    ids = {json.loads(r)["transaction_id"] for r in records}
    labels = [
        line
        for line in LABELS.read_text().splitlines()
        if json.loads(line)["transaction_id"] in ids
    ]
    size = len(records) // BURSTS
    with LocalAws() as aws, RunningPipeline(aws, str(model)) as pipeline:
        put(pipeline, pipeline.config.labels_stream, labels)
        for burst in range(BURSTS):
            chunk = records[burst * size : (burst + 1) * size if burst < BURSTS - 1 else None]
            pipeline.send(chunk, rate=RATE, progress=False)
            if hostile:
                pipeline.send(hostile_transactions(chunk[0]), rate=RATE, progress=False)
                put(pipeline, pipeline.config.labels_stream, hostile_labels(json.loads(labels[0])))
            time.sleep(QUIET_S)
        wait_for(lambda: pipeline.scored() >= len(records), 240, "every transaction scored")
        wait_quiet(pipeline.alerts, quiet_s=3.0, timeout_s=60)
        assert pipeline.scored() == len(records)
        assert pipeline.late() == 0
        if hostile:
            dead = pipeline.deadletter_records()
            reasons = {d["reason"] for d in dead}
            assert any(r.startswith("duplicate transaction_id") for r in reasons)
            assert any("after the record's arrival" in r for r in reasons)
            assert max(d["payload_bytes"] for d in dead) > 900_000
        return {a.record["transaction_id"]: a.record for a in pipeline.alerts.received}


def test_hostile_records_of_both_streams_change_no_other_alert(tmp_path: Path) -> None:
    model = write_model(tmp_path / "model", "m-hostile", threshold=0.01)
    clean = run(model, hostile=False)
    attacked = run(model, hostile=True)
    assert len(clean) == TRANSACTIONS
    assert set(attacked) == set(clean), set(clean) ^ set(attacked)
    for transaction_id, alert in clean.items():
        assert attacked[transaction_id]["features"] == alert["features"], transaction_id
        assert attacked[transaction_id]["late"] is False
