"""Label revisions, one rule in both engines: the label in force for a transaction is the one
reported last (chargebacks and analyst verdicts alike; a fraud wins a tie), among those
reported by the time the terminal risk reads it. A fraud verdict reversed to legit in time is
taken back from the terminal's risk, in streaming as in batch and in the oracle, whatever
order the labels arrive in."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from model_export.feature_table import compute_features
from tests.feature_oracle import oracle_features
from tests.test_features import assert_features_equal

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "sample_data" / "sample_labels.jsonl"
BOUND_MS = 5 * 60_000
DAYS = 16


def _later(stamp: str, hours: float) -> str:
    at = datetime.fromisoformat(stamp.replace("Z", "+00:00")) + timedelta(hours=hours)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def revised_labels(ids: set[str]) -> tuple[list[str], int, int]:
    """The sample's labels of `ids` with revisions: every second fraud reversed to legit
    (12 h or 5 days after it was reported: in time for the risk or not), every tenth legit
    turned fraud a day later; each revision written before the label it revises, so it
    arrives first. Returns the lines, the reversals and the turned legit labels."""
    lines, reversed_, turned = [], 0, 0
    originals = [json.loads(x) for x in LABELS.read_text().splitlines()]
    for i, label in enumerate(o for o in originals if o["transaction_id"] in ids):
        revision = None
        if label["label"] == "fraud" and i % 2 == 0:
            hours = 12 if i % 4 == 0 else 5 * 24
            revision = {**label, "label": "legit", "source": "analyst"}
            revision["reported_at"] = _later(label["reported_at"], hours)
            reversed_ += 1
        elif label["label"] == "legit" and i % 10 == 0:
            revision = {**label, "label": "fraud", "source": "analyst"}
            revision["reported_at"] = _later(label["reported_at"], 24)
            turned += 1
        if revision is not None:
            lines.append(json.dumps(revision))
        lines.append(json.dumps(label))
    return lines, reversed_, turned


def test_revised_labels_give_stream_equal_batch_equal_oracle_terminal_risk(
    sample_path: Path, tmp_path: Path
) -> None:
    lines = [
        line
        for line in sample_path.read_text().splitlines()
        if json.loads(line)["event_time"] < f"2026-10-{DAYS + 1:02d}"
    ]
    transactions_path = tmp_path / "t.jsonl"
    transactions_path.write_text("\n".join(lines) + "\n")
    ids = {json.loads(line)["transaction_id"] for line in lines}
    label_lines, reversed_, turned = revised_labels(ids)
    assert reversed_ > 10 and turned > 10
    labels_path = tmp_path / "labels.jsonl"
    labels_path.write_text("\n".join(label_lines) + "\n")

    def run(streaming: bool) -> pd.DataFrame:
        frame = compute_features(
            transactions_path, streaming=streaming, lateness_ms=BOUND_MS, labels=labels_path
        )
        return frame.set_index("transaction_id")

    streamed, batch = run(streaming=True), run(streaming=False)
    risks = [c for c in streamed.columns if c.startswith("terminal_fraud_risk_")]
    assert_features_equal(streamed, batch, risks)
    transactions = pd.read_json(transactions_path, lines=True, dtype={"transaction_id": str})
    labels = pd.read_json(
        labels_path, lines=True, dtype={"transaction_id": str}, convert_dates=False
    )
    expected = oracle_features(transactions, labels).set_index("transaction_id")
    assert_features_equal(streamed, expected, risks)
    # the revisions mattered: without them (the sample's own labels) the risks differ
    original = oracle_features(
        transactions,
        pd.read_json(LABELS, lines=True, dtype={"transaction_id": str}, convert_dates=False),
    ).set_index("transaction_id")
    assert (original.loc[streamed.index, risks] != streamed[risks]).any().any()
