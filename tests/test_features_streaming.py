"""One definition, two engines: the streaming engine (the job's views on the Flink
mini-cluster, with watermarks) gives the same features as the batch training path and as
the pandas oracle, and arrival order within the out-of-order bound changes nothing."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model_export.feature_table import compute_features
from tests.feature_oracle import oracle_features
from tests.test_features import assert_features_equal

BOUND_MS = 5 * 60_000  # the default out-of-order bound
DAYS = 20  # a subset of the sample keeps the three streaming runs short


@pytest.fixture(scope="module")
def subset(sample_path: Path, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    lines = sample_path.read_text().splitlines()
    return [line for line in lines if json.loads(line)["event_time"] < f"2026-10-{DAYS + 1:02d}"]


def _write(lines: list[str], tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _ms(line: str) -> int:
    return int(pd.Timestamp(json.loads(line)["event_time"]).value // 1_000_000)


LABELS = Path(__file__).resolve().parent.parent / "sample_data" / "sample_labels.jsonl"


def _features(path: Path, streaming: bool) -> pd.DataFrame:
    frame = compute_features(path, streaming=streaming, lateness_ms=BOUND_MS, labels=LABELS)
    return frame.set_index("transaction_id")


@pytest.fixture(scope="module")
def in_order(subset: list[str], tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    return _features(_write(subset, tmp_path_factory.mktemp("in_order"), "t.jsonl"), True)


def test_streaming_features_equal_batch_features_and_the_oracle(
    subset: list[str], in_order: pd.DataFrame, tmp_path: Path
) -> None:
    path = _write(subset, tmp_path, "t.jsonl")
    assert len(in_order) == len(subset) and not in_order["late"].any()
    assert_features_equal(in_order, _features(path, streaming=False))
    transactions = pd.read_json(path, lines=True, dtype={"transaction_id": str})
    labels = pd.read_json(LABELS, lines=True, dtype={"transaction_id": str}, convert_dates=False)
    expected = oracle_features(transactions, labels).set_index("transaction_id")
    assert_features_equal(in_order, expected)
    assert (in_order["terminal_fraud_risk_7d"] > 0).sum() > 10  # the labels did count


def test_shuffling_arrival_within_the_bound_changes_nothing(
    subset: list[str], in_order: pd.DataFrame, tmp_path: Path
) -> None:
    rng = np.random.default_rng(3)
    jitter = rng.integers(0, BOUND_MS - 1, size=len(subset))
    arrival = sorted(range(len(subset)), key=lambda i: _ms(subset[i]) + int(jitter[i]))
    shuffled = [subset[i] for i in arrival]
    displaced = sum(1 for a, b in itertools.pairwise(shuffled) if _ms(a) > _ms(b))
    assert displaced > 50  # the order really changed
    actual = _features(_write(shuffled, tmp_path, "shuffled.jsonl"), streaming=True)
    assert not actual["late"].any()
    assert_features_equal(actual, in_order)


def test_an_event_later_than_the_bound_is_scored_alone_and_flagged(
    subset: list[str], tmp_path: Path
) -> None:
    late = subset[100]
    moved = [line for line in subset if line != late]
    moved.insert(
        101 + next(i for i, line in enumerate(moved) if _ms(line) > _ms(late) + 3_600_000), late
    )
    actual = _features(_write(moved, tmp_path, "late.jsonl"), streaming=True)
    tx = json.loads(late)["transaction_id"]
    assert len(actual) == len(subset)
    assert actual["late"].sum() == 1 and actual.loc[tx, "late"]
    assert actual.loc[tx, "card_txn_count_30d"] == 1
    assert actual.loc[tx, "card_avg_amount_30d"] == json.loads(late)["amount"]
