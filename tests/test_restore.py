"""The job stopped with a savepoint and started again from it goes on with every card's and
terminal's history: the features of transactions sent after the restart equal the batch
features of the whole history. Nothing is read twice or lost across the restart."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from flink_job.features import FEATURE_NAMES
from local.aws import LocalAws
from local.flink.running import RunningPipeline, wait_for
from local.traffic.replay import read_records
from model_export.feature_table import compute_features
from tests.test_registry import write_model

pytestmark = pytest.mark.integration

BEFORE, AFTER = 700, 500  # transactions before the savepoint, and after the restart


def _alerted(pipeline: RunningPipeline, ids: set[str]) -> dict[str, dict[str, float]]:
    """Features of the alerts for `ids` (every transaction alerts with the test model)."""
    wait_for(
        lambda: ids <= {a.record["transaction_id"] for a in pipeline.alerts.received},
        120,
        "an alert for every transaction",
    )
    return {
        a.record["transaction_id"]: a.record["features"]
        for a in pipeline.alerts.received
        if a.record["transaction_id"] in ids
    }


def test_a_job_restored_from_a_savepoint_keeps_every_key_history(
    tmp_path: Path, sample_path: Path
) -> None:
    valid = [r for r in read_records(sample_path) if r.startswith("{")]
    records = sorted(valid, key=lambda r: json.loads(r)["event_time"])[: BEFORE + AFTER]
    before, after = records[:BEFORE], records[BEFORE:]
    model = write_model(tmp_path / "model", "m-restore", threshold=0.01)
    savepoints = (tmp_path / "savepoints").as_uri()
    with LocalAws() as aws:
        with RunningPipeline(aws, str(model)) as first:
            first.send(before, rate=2_000, progress=False)
            _alerted(first, {json.loads(r)["transaction_id"] for r in before})
            savepoint = first.rest.stop_with_savepoint(first.job_ids()[0], savepoints)
        restored = {"execution.savepoint.path": savepoint}
        with RunningPipeline(aws, str(model), flink=restored) as second:
            second.send(after, rate=2_000, progress=False)
            after_ids = {json.loads(r)["transaction_id"] for r in after}
            streamed = _alerted(second, after_ids)
            transaction_ids = [a.record["transaction_id"] for a in second.alerts.received]

    history = tmp_path / "history.jsonl"
    history.write_text("\n".join(records) + "\n")
    expected = compute_features(history).set_index("transaction_id").loc[sorted(after_ids)]
    actual = pd.DataFrame.from_dict(streamed, orient="index").loc[sorted(after_ids)]
    for name in FEATURE_NAMES:
        pd.testing.assert_series_equal(
            actual[name].astype(float), expected[name], check_names=False, rtol=1e-9
        )
    # the second job read on from the savepoint's offsets: each transaction alerted once
    assert len(transaction_ids) == len(set(transaction_ids)) == BEFORE + AFTER
