"""One definition, two engines: the streaming engine (the job's views on the Flink
mini-cluster, scoring each transaction on arrival) gives the same features as the batch
training path and as the pandas oracle for input in event-time order; out of order, each
transaction has the features of what arrived before it, and nothing waits for the
watermark."""

from __future__ import annotations

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


def _features_without_labels(path: Path) -> pd.DataFrame:
    frame = compute_features(path, streaming=True, lateness_ms=BOUND_MS)
    return frame.set_index("transaction_id")


def _oracle_on_arrival(arrived: list[str], transaction_id: str) -> pd.DataFrame:
    """The oracle's features of one transaction over what had arrived by then (itself
    included): the rows of its card and its terminal among `arrived`."""
    rows = pd.DataFrame([json.loads(line) for line in arrived])
    rows["transaction_id"] = rows["transaction_id"].astype(str)
    me = rows[rows["transaction_id"] == transaction_id].iloc[0]
    mine = rows[(rows["card_id"] == me["card_id"]) | (rows["terminal_id"] == me["terminal_id"])]
    features = oracle_features(mine.reset_index(drop=True))
    return features.set_index("transaction_id").loc[[transaction_id]]


def test_shuffled_arrival_scores_each_transaction_with_what_arrived_before_it(
    subset: list[str], tmp_path: Path
) -> None:
    rng = np.random.default_rng(3)
    jitter = rng.integers(0, BOUND_MS - 1, size=len(subset))
    arrival = sorted(range(len(subset)), key=lambda i: _ms(subset[i]) + int(jitter[i]))
    shuffled = [subset[i] for i in arrival]
    displaced = [i for i in range(1, len(shuffled)) if _ms(shuffled[i - 1]) > _ms(shuffled[i])]
    assert len(displaced) > 50  # the order really changed
    actual = _features_without_labels(_write(shuffled, tmp_path, "shuffled.jsonl"))
    assert len(actual) == len(subset) and not actual["late"].any()  # all within the bound
    # a sample of transactions that arrived after a later one, and of the ones after them
    checked = sorted({*displaced[::10], *(i + 1 for i in displaced[::10] if i + 1 < len(subset))})
    for i in checked:
        tx = json.loads(shuffled[i])["transaction_id"]
        assert_features_equal(actual.loc[[tx]], _oracle_on_arrival(shuffled[: i + 1], tx))


def test_an_event_later_than_the_bound_is_scored_with_what_its_keys_hold_and_flagged(
    subset: list[str], tmp_path: Path
) -> None:
    late = subset[100]
    moved = [line for line in subset if line != late]
    at = 101 + next(i for i, line in enumerate(moved) if _ms(line) > _ms(late) + 3_600_000)
    moved.insert(at, late)
    actual = _features_without_labels(_write(moved, tmp_path, "late.jsonl"))
    tx = json.loads(late)["transaction_id"]
    assert len(actual) == len(subset)
    assert actual["late"].sum() == 1 and actual.loc[tx, "late"]
    # an hour behind: far within its keys' 30 days, so its history is whole
    assert_features_equal(actual.loc[[tx]], _oracle_on_arrival(moved[: at + 1], tx))
    assert actual.loc[tx, "card_txn_count_30d"] > 1
