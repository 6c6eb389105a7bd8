"""The feature aggregates as Managed Flink runs them: on the RocksDB state backend, with the
keys spread over two parallel subtasks, the streaming features are the batch features of
the sample, as far as arrival order allows.

The card aggregate reads straight from the source, so a card's transactions reach it in
order and every card feature is exact. The terminal aggregate comes after it: a terminal's
transactions reach its subtask from both card subtasks, and read from a file at thousands
per second one can overtake another by a few milliseconds. Such a transaction is scored
before its predecessor arrives (the job scores on arrival): a count can miss what is still
in flight, never count what is not there. Labels, days ahead, are never overtaken."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from flink_job.features import FEATURE_NAMES
from model_export.feature_table import compute_features, flink_environment
from tests.test_features import assert_features_equal

DAYS = 20
# Terminal counts over the last hours and days: a predecessor in flight is not counted yet.
IN_FLIGHT_SENSITIVE = (
    "terminal_txn_count_1d",
    "terminal_txn_count_7d",
    "terminal_txn_count_30d",
    "terminal_distinct_cards_1h",
)
LABELS = Path(__file__).resolve().parent.parent / "sample_data" / "sample_labels.jsonl"


@pytest.fixture(scope="module")
def subset_path(sample_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines = sample_path.read_text().splitlines()
    kept = [line for line in lines if json.loads(line)["event_time"] < f"2026-10-{DAYS + 1:02d}"]
    path = tmp_path_factory.mktemp("subset") / "t.jsonl"
    path.write_text("\n".join(kept) + "\n")
    return path


def _streaming_on(path: Path, settings: dict[str, str]) -> pd.DataFrame:
    t_env, view = flink_environment(path, True, 300_000, LABELS)
    for key, value in settings.items():
        t_env.get_config().set(key, value)
    columns = ", ".join(FEATURE_NAMES)
    frame: pd.DataFrame = t_env.sql_query(
        f"SELECT transaction_id, late, {columns} FROM {view}"
    ).to_pandas()
    return frame.set_index("transaction_id")


def test_rocksdb_at_parallelism_2_gives_the_batch_features_but_what_is_in_flight(
    subset_path: Path,
) -> None:
    actual = _streaming_on(
        subset_path, {"state.backend.type": "rocksdb", "parallelism.default": "2"}
    )
    expected = compute_features(subset_path, labels=LABELS).set_index("transaction_id")
    assert not actual["late"].any()
    exact = [n for n in FEATURE_NAMES if n not in IN_FLIGHT_SENSITIVE]
    assert_features_equal(actual, expected, exact)
    assert (actual["terminal_fraud_risk_7d"] > 0).sum() > 10  # the labels did count
    actual = actual.astype({n: float for n in IN_FLIGHT_SENSITIVE})
    short = pd.Series(False, index=actual.index)
    for name in IN_FLIGHT_SENSITIVE:
        missing = expected[name] - actual[name]
        assert (missing >= 0).all(), name  # never counts what is not there
        assert (actual[name] >= 1).all(), name  # each counts itself
        short |= missing > 0
    assert short.mean() < 0.2  # most transactions have every predecessor already
