"""The loop closes: a verdict given through the API reaches the `labels` stream (after its
hold) as a Label v1 with its actor and verdict id that the job's own label rules accept,
and the job's feature definition (model_export's Flink batch run, the same views as the
streaming job) counts it in the terminal's fraud risk exactly as it counts a chargeback,
which carries neither."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lambdas.api.repository import iso
from model_export.feature_table import compute_features
from tests.api_support import ApiUnderTest, alert_record, started_api


@pytest.fixture(scope="module")
def api() -> Iterator[ApiUnderTest]:
    yield from started_api()


def transaction(tx: str, at: datetime, terminal: str, card: str) -> dict[str, Any]:
    return {
        "transaction_id": tx,
        "event_time": iso(at),
        "card_id": card,
        "terminal_id": terminal,
        "amount": 25.0,
        "currency": "EUR",
    }


def test_an_analyst_verdict_counts_in_terminal_risk_like_a_chargeback(
    api: ApiUnderTest, tmp_path: Path
) -> None:
    # The alerted payment happened an hour ago at term_analyst; an analyst marks it fraud now.
    happened = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    record = alert_record(
        990_001, happened + timedelta(seconds=1), card="card_loop_a", terminal="term_analyst"
    )
    record["event_time"] = iso(happened)
    api.store([record])
    response = api.post(f"/alerts/{record['alert_id']}/feedback", {"label": "fraud"})
    assert response.status_code == 200, response.text
    api.release_held()  # the hold passed without a reversal
    [entry] = [e for e in api.labels() if e["label"]["transaction_id"] == "t-990001"]
    analyst_label = entry["label"]
    assert analyst_label["source"] == "analyst"
    assert analyst_label["actor"] and analyst_label["verdict_id"]

    # The same fraud, reported as a chargeback at the same moment, at a twin terminal: a
    # chargeback says nothing of who (no actor, no verdict_id), and the job takes both.
    chargeback = {
        **{k: v for k, v in analyst_label.items() if k not in ("actor", "verdict_id")},
        "transaction_id": "t-990002",
        "card_id": "card_loop_b",
        "terminal_id": "term_chargeback",
        "source": "chargeback",
    }
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps(analyst_label) + "\n" + json.dumps(chargeback) + "\n")

    # Each terminal: the labelled payment, one more that day, and one 7 days + 1 hour later,
    # when the label (7-day delay, reported in time) counts for the terminal's risk.
    later = happened + timedelta(days=7, hours=1)
    rows = []
    for terminal, tx, card in (
        ("term_analyst", "t-990001", "card_loop_a"),
        ("term_chargeback", "t-990002", "card_loop_b"),
    ):
        rows += [
            transaction(tx, happened, terminal, card),
            transaction(f"{tx}-same-day", happened + timedelta(minutes=30), terminal, "card_z"),
            transaction(f"{tx}-later", later, terminal, "card_y"),
        ]
    transactions = tmp_path / "transactions.jsonl"
    transactions.write_text("\n".join(json.dumps(r) for r in rows) + "\n")

    features = compute_features(transactions, labels=labels).set_index("transaction_id")
    risk = [c for c in features.columns if c.startswith("terminal_fraud_risk_")]
    by_analyst = features.loc["t-990001-later", risk]
    by_chargeback = features.loc["t-990002-later", risk]
    assert by_analyst["terminal_fraud_risk_1d"] == pytest.approx(0.5)  # 1 fraud of 2 payments
    assert by_analyst.to_dict() == by_chargeback.to_dict()
    assert (features.loc["t-990001-same-day", risk] == 0).all()  # not before the delay


def test_one_token_moves_a_terminals_risk_only_by_the_budget(
    api: ApiUnderTest, tmp_path: Path
) -> None:
    """Fraud verdicts on every one of a terminal's 20 alerted payments from one token: in the
    job's own feature views the terminal's risk a week later is budget ÷ 20, not 20 ÷ 20."""
    payments = 20
    happened = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    terminal = "term_flooded"
    records = []
    for index in range(payments):
        at = happened + timedelta(minutes=index)
        record = alert_record(
            991_000 + index, at + timedelta(seconds=1), card=f"card_fl_{index}", terminal=terminal
        )
        record["event_time"] = iso(at)
        records.append(record)
    api.store(records)
    for record in records:
        response = api.post(f"/alerts/{record['alert_id']}/feedback", {"label": "fraud"})
        assert response.status_code == 200, response.text
    api.release_held()
    released = [e["label"] for e in api.labels() if e["label"]["terminal_id"] == terminal]
    budget = len(released)
    assert 0 < budget < payments

    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(label) + "\n" for label in released))
    later = happened + timedelta(days=7, hours=1)
    rows = [
        transaction(
            record["transaction_id"], happened + timedelta(minutes=i), terminal, record["card_id"]
        )
        for i, record in enumerate(records)
    ] + [transaction("t-flooded-later", later, terminal, "card_y")]
    transactions = tmp_path / "transactions.jsonl"
    transactions.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    features = compute_features(transactions, labels=labels).set_index("transaction_id")
    risk = features.loc["t-flooded-later", "terminal_fraud_risk_1d"]
    assert risk == pytest.approx(budget / payments)
    print(
        f"\none token, fraud on all {payments} payments of {terminal}: labels released "
        f"{budget}, terminal_fraud_risk_1d a week later {risk:.2f} (unbounded: 1.00)"
    )
