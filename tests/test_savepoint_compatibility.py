"""Every build restores the savepoints of earlier builds (tests/savepoints/, each taken by
`python -m tests.savepoint_support NAME` with the build of its day, see recipe.json): the
restored job reads on from the savepoint's Kinesis offsets, the features of the
transactions sent after the restore equal the batch features of the whole history, and no
state of the old build is left unclaimed but a Kinesis sink's buffer. This fails the day a
state format changes without a reader for the one before it, or an upgrade moves the state
of a source or an aggregate to another operator (docs/deployment.md, "Upgrading the job
without losing state")."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from flink_job.features import FEATURE_NAMES
from local.aws import LocalAws
from local.flink.running import RunningPipeline, wait_for
from model_export.feature_table import compute_features
from tests.savepoint_support import (
    DISPOSABLE_STATE,
    MODEL_VERSION,
    ROCKSDB,
    SAVEPOINTS,
    rebuild_stream,
    sample_records,
    stateful_operators,
)
from tests.test_registry import write_model

pytestmark = pytest.mark.integration

COMMITTED = sorted(p.name for p in SAVEPOINTS.iterdir() if (p / "savepoint").is_dir())


def test_savepoints_of_earlier_builds_are_committed() -> None:
    assert "v0" in COMMITTED  # the build before state formats carried a version


@pytest.mark.parametrize("name", COMMITTED)
def test_a_savepoint_of_an_earlier_build_restores_every_card_and_terminal_history(
    name: str, tmp_path: Path
) -> None:
    before, after = sample_records()
    savepoint = tmp_path / "savepoint"
    shutil.copytree(SAVEPOINTS / name / "savepoint", savepoint)
    model = write_model(tmp_path / "model", MODEL_VERSION, threshold=0.01)
    restore = {
        **ROCKSDB,
        "execution.savepoint.path": savepoint.as_uri(),
        "execution.savepoint.ignore-unclaimed-state": "true",
    }
    after_ids = {json.loads(r)["transaction_id"] for r in after}
    with LocalAws() as aws:
        rebuild_stream(aws, "transactions", before)
        with RunningPipeline(aws, str(model), flink=restore) as job:
            assert job.config.transactions_stream == "transactions"
            job.send(after, rate=2_000, progress=False)
            wait_for(
                lambda: after_ids <= {a.record["transaction_id"] for a in job.alerts.received},
                180,
                "an alert for every transaction sent after the restore",
            )
            alerts = job.alerts.received
            taken = job.rest.stop_with_savepoint(job.job_ids()[0], (tmp_path / "taken").as_uri())

    # every operator state of the old build is the new build's but sink buffers (an upgrade
    # that reshapes the graph may leave those unclaimed: ignore-unclaimed-state)
    kept = stateful_operators(taken)
    unclaimed = {
        operator: names
        for operator, names in stateful_operators(savepoint.as_uri()).items()
        if operator not in kept
    }
    assert all(names <= DISPOSABLE_STATE for names in unclaimed.values()), unclaimed

    # read on from the savepoint's offsets: nothing before it again, each one after once
    alerted = [a.record["transaction_id"] for a in alerts]
    assert sorted(alerted) == sorted(after_ids)
    history = tmp_path / "history.jsonl"
    history.write_text("\n".join(before + after) + "\n")
    expected = compute_features(history).set_index("transaction_id").loc[sorted(after_ids)]
    streamed = {a.record["transaction_id"]: a.record["features"] for a in alerts}
    actual = pd.DataFrame.from_dict(streamed, orient="index").loc[sorted(after_ids)]
    for feature in FEATURE_NAMES:
        pd.testing.assert_series_equal(
            actual[feature].astype(float), expected[feature], check_names=False, rtol=1e-9
        )
