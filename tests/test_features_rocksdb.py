"""The feature aggregates as Managed Flink runs them: on the RocksDB state backend (whose
map state holds each window's entries one by one), with the keys spread over two parallel
subtasks, the streaming features equal the batch features of the sample."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from flink_job.features import FEATURE_NAMES
from model_export.feature_table import compute_features, flink_environment
from tests.test_features import assert_features_equal

DAYS = 20
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


def test_rocksdb_at_parallelism_2_gives_the_batch_features(subset_path: Path) -> None:
    actual = _streaming_on(
        subset_path, {"state.backend.type": "rocksdb", "parallelism.default": "2"}
    )
    expected = compute_features(subset_path, labels=LABELS).set_index("transaction_id")
    assert not actual["late"].any()
    assert_features_equal(actual[list(FEATURE_NAMES)], expected[list(FEATURE_NAMES)])
    assert (actual["terminal_fraud_risk_7d"] > 0).sum() > 10  # the labels did count
