"""The job end to end on the Flink mini-cluster, through the real Kinesis connector,
against moto's Kinesis API on loopback: every valid transaction is scored, injected
frauds are alerted with Alert v1 records, malformed records are dead-lettered."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flink_job.features import FEATURE_NAMES
from local.aws import LocalAws
from local.demo import malformed_records, mix
from local.replay import read_records
from local.running import RunningPipeline, wait_for, wait_quiet

pytestmark = pytest.mark.integration

ALERT_FIELDS = {
    "schema": str,
    "alert_id": str,
    "transaction_id": str,
    "event_time": str,
    "card_id": str,
    "terminal_id": str,
    "amount": float,
    "currency": str,
    "score": float,
    "threshold": float,
    "severity": str,
    "model_version": str,
    "reasons": list,
    "reason_codes": list,
    "features": dict,
    "late": bool,
    "ingested_at": str,
    "detected_at": str,
}
LATE_ID = "late-copy-of-the-first"
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def injected_frauds() -> list[str]:
    """Unmistakable high-amount frauds on ordinary cards, spread over the sample's days."""
    return [
        json.dumps(
            {
                "transaction_id": f"injected-{day}",
                "event_time": f"2026-10-{day:02d}T12:00:00.000Z",
                "card_id": f"card_{day:06d}",
                "terminal_id": "term_00001",
                "amount": 4_800.0 + day,
                "currency": "EUR",
                "channel": "ecom",
            }
        )
        for day in range(5, 32, 3)
    ]


@pytest.fixture(scope="module")
def run(trained_model: dict[str, Any], sample_path: Path) -> Iterator[dict[str, Any]]:
    records = read_records(sample_path)
    bad = malformed_records()
    frauds = injected_frauds()
    # Injected frauds go in event-time order so that none is later than the watermark;
    # one copy of an early transaction, under a new id, comes last: it is late.
    stream = sorted(records + frauds, key=lambda r: json.loads(r)["event_time"])
    stream.append(json.dumps({**json.loads(records[0]), "transaction_id": LATE_ID}))
    with LocalAws() as aws, RunningPipeline(aws, str(trained_model["dir"])) as pipeline:
        sent = pipeline.send(mix(stream, bad), rate=3_000, progress=False)
        valid = len(stream)
        wait_for(lambda: len(pipeline.deadletter_records()) >= len(bad), 120, "dead letters")
        wait_for(lambda: pipeline.scored() >= valid, 180, "every transaction scored")
        wait_quiet(pipeline.alerts, quiet_s=3.0, timeout_s=60)
        wait_for(lambda: pipeline.late() >= 1, 60, "the late transaction counted")
        late = pipeline.late()
        yield {
            "sent": sent,
            "valid": valid,
            "scored": pipeline.scored(),
            "late": late,
            "bad": bad,
            "frauds": frauds,
            "alerts": [a.record for a in pipeline.alerts.received],
            "dead": pipeline.deadletter_records(),
            "threshold": trained_model["manifest"]["threshold"],
        }


def test_every_valid_transaction_is_scored_exactly_once(run: dict[str, Any]) -> None:
    assert run["sent"].failed == 0
    assert run["scored"] == run["valid"]


def test_a_transaction_later_than_the_bound_is_scored_and_counted(run: dict[str, Any]) -> None:
    assert run["late"] == 1  # the Flink metric transactions_late; scored above, not dropped


def test_injected_high_amount_frauds_are_all_alerted(run: dict[str, Any]) -> None:
    alerted = {a["transaction_id"] for a in run["alerts"]}
    injected = {json.loads(r)["transaction_id"] for r in run["frauds"]}
    assert injected <= alerted


def test_alerts_follow_the_alert_v1_contract(run: dict[str, Any]) -> None:
    assert run["alerts"]
    for alert in run["alerts"]:
        for name, kind in ALERT_FIELDS.items():
            assert isinstance(alert[name], kind), (name, alert[name])
        assert alert["schema"] == "alert.v1"
        expected_id = hashlib.sha256(f"alert.v1:{alert['transaction_id']}".encode()).hexdigest()
        assert alert["alert_id"] == expected_id[:32]
        assert alert["score"] >= alert["threshold"] == pytest.approx(run["threshold"])
        assert alert["severity"] in {"low", "medium", "high"}
        assert 1 <= len(alert["reasons"]) == len(alert["reason_codes"]) <= 3
        assert set(alert["features"]) == set(FEATURE_NAMES)
        for stamp in ("event_time", "ingested_at", "detected_at"):
            assert RFC3339_UTC.match(alert[stamp]), alert[stamp]
        assert alert["detected_at"] >= alert["ingested_at"]


def test_one_alert_per_transaction(run: dict[str, Any]) -> None:
    ids = [a["alert_id"] for a in run["alerts"]]
    assert len(ids) == len(set(ids))


def test_malformed_records_are_dead_lettered_with_reasons_and_nothing_else_is(
    run: dict[str, Any],
) -> None:
    dead = run["dead"]
    assert len(dead) == len(run["bad"])
    assert all(d["schema"] == "deadletter.v1" and d["reason"] for d in dead)
    reasons = " | ".join(sorted(d["reason"] for d in dead))
    for expected in (
        "not a JSON object",
        "amount must be >= 0",
        "amount must be a finite number",
        "card_id contains a card number",
        "terminal_id contains a card number",
        "RFC 3339",
        "currency",
        "event_time is more than 60000 ms after the record's arrival",
        "record is not valid UTF-8",
    ):
        assert expected in reasons
    for letter in dead:
        assert letter["payload_bytes"] >= 1 and len(letter["payload_sha256"]) == 64
    encodings = {d["reason"]: d["payload_encoding"] for d in dead}
    assert encodings["record is not valid UTF-8"] == "base64"


def test_no_card_number_reaches_any_output(run: dict[str, Any]) -> None:
    everything = json.dumps(run["alerts"]) + json.dumps(run["dead"])
    assert "4111 1111 1111 1111" not in everything
    assert "4111111111111111" not in everything
    assert any("[PAN REDACTED]" in d["payload"] for d in run["dead"])
