"""The job end to end on the Flink mini-cluster, through the real Kinesis connector,
against moto's Kinesis API on loopback: every valid transaction is scored and recorded
once in the decision log (Decision v1), injected frauds are alerted with Alert v1 records,
malformed records are dead-lettered; with non-alert decisions sampled, every alert is
still recorded and the kept decisions re-weight to the whole."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.decision import DECISION_V1, decision_id, kept, sample_weight
from flink_job.features import FEATURE_NAMES
from local.aws import LocalAws
from local.demo import malformed_records, mix
from local.flink.running import RunningPipeline, wait_for, wait_quiet
from local.traffic.replay import read_records

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
SAMPLE_RATE = 0.25
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
        wait_for(lambda: len(pipeline.decision_records()) >= valid, 60, "every decision")
        yield {
            "ids": [json.loads(r)["transaction_id"] for r in stream],
            "decisions": pipeline.decision_records(),
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


@pytest.fixture(scope="module")
def sampled_run(trained_model: dict[str, Any], sample_path: Path) -> Iterator[dict[str, Any]]:
    """The sample with non-alert decisions sampled at SAMPLE_RATE."""
    stream = sorted(read_records(sample_path), key=lambda r: json.loads(r)["event_time"])
    with (
        LocalAws() as aws,
        RunningPipeline(
            aws, str(trained_model["dir"]), decisions_sample_rate=SAMPLE_RATE
        ) as pipeline,
    ):
        pipeline.send(stream, rate=3_000, progress=False)
        wait_for(lambda: pipeline.scored() >= len(stream), 180, "every transaction scored")
        wait_quiet(pipeline.alerts, quiet_s=3.0, timeout_s=60)
        alerts = [a.record for a in pipeline.alerts.received]
        ids = [json.loads(r)["transaction_id"] for r in stream]
        alerted = {a["transaction_id"] for a in alerts}
        expected = sum(kept(decision_id(i), i in alerted, SAMPLE_RATE) for i in ids)
        wait_for(lambda: len(pipeline.decision_records()) >= expected, 60, "the kept decisions")
        yield {"ids": ids, "alerts": alerts, "decisions": pipeline.decision_records()}


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
    everything = json.dumps(run["alerts"]) + json.dumps(run["dead"]) + json.dumps(run["decisions"])
    assert "4111 1111 1111 1111" not in everything
    assert "4111111111111111" not in everything
    assert any("[PAN REDACTED]" in d["payload"] for d in run["dead"])


def test_every_valid_transaction_has_exactly_one_decision(run: dict[str, Any]) -> None:
    decisions = run["decisions"]
    copies = Counter(d["transaction_id"] for d in decisions)
    assert set(copies) == set(run["ids"])  # the dead-lettered records have none
    assert max(copies.values()) == 1
    assert len(decisions) == run["scored"]


def test_decisions_follow_the_decision_v1_contract_and_agree_with_the_alerts(
    run: dict[str, Any],
) -> None:
    alerts = {a["transaction_id"]: a for a in run["alerts"]}
    decisions = {d["transaction_id"]: d for d in run["decisions"]}
    assert {t for t, d in decisions.items() if d["alerted"]} == set(alerts)
    for transaction, decision in decisions.items():
        assert list(decision) == list(DECISION_V1.names())
        assert decision["schema"] == "decision.v1"
        assert decision["decision_id"] == decision_id(transaction)
        assert set(decision["features"]) == set(FEATURE_NAMES)
        assert decision["alerted"] == (decision["score"] >= decision["threshold"])
        assert decision["sample_weight"] == 1.0
        assert decision["shadow_scores"] is None  # no shadow model runs yet
        assert decision["decided_at"] >= decision["ingested_at"]
        alert = alerts.get(transaction)
        if alert is None:
            assert decision["severity"] is None and decision["reasons"] is None
            continue
        for name in ("score", "threshold", "model_version", "severity", "reasons", "late"):
            assert decision[name] == alert[name], name
        assert decision["reason_codes"] == alert["reason_codes"]
        assert decision["features"] == alert["features"]
    assert decisions[LATE_ID]["late"] is True


def test_sampled_non_alerts_are_the_ones_their_ids_choose_and_no_alert_is_dropped(
    sampled_run: dict[str, Any],
) -> None:
    decisions = sampled_run["decisions"]
    alerted = {a["transaction_id"] for a in sampled_run["alerts"]}
    assert alerted, "the sample has alerts"
    assert {d["transaction_id"] for d in decisions if d["alerted"]} == alerted
    chosen = {
        i
        for i in sampled_run["ids"]
        if i not in alerted and kept(decision_id(i), False, SAMPLE_RATE)
    }
    assert {d["transaction_id"] for d in decisions if not d["alerted"]} == chosen
    assert len(decisions) == len(alerted) + len(chosen)  # each once


def test_sampled_decisions_re_weight_to_every_scored_transaction(
    sampled_run: dict[str, Any],
) -> None:
    decisions = sampled_run["decisions"]
    for decision in decisions:
        assert decision["sample_weight"] == sample_weight(decision["alerted"], SAMPLE_RATE)
    estimate = sum(d["sample_weight"] for d in decisions)
    non_alerts = len(sampled_run["ids"]) - sum(d["alerted"] for d in decisions)
    kept_non_alerts = sum(not d["alerted"] for d in decisions)
    # exactly: each kept non-alert stands for 1 / rate decisions, each alert for itself
    assert estimate == sum(d["alerted"] for d in decisions) + kept_non_alerts / SAMPLE_RATE
    # and the estimate is the true count within four standard deviations of the sampling
    spread = math.sqrt(non_alerts * SAMPLE_RATE * (1 - SAMPLE_RATE)) / SAMPLE_RATE
    assert abs(estimate - len(sampled_run["ids"])) <= 4 * spread
    print(
        f"sampled at {SAMPLE_RATE}: {len(decisions)} records for {len(sampled_run['ids'])} "
        f"transactions, re-weighted {estimate:.0f}"
    )
