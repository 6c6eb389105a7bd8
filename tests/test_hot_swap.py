"""Hot swap on the Flink mini-cluster, with the registry on moto's S3: transactions sent
before a promote are scored by version A, after it by version B, none is lost; a model
with another feature schema is refused while B keeps scoring. A shadow model that scores
every transaction 1.0 alerts on none, and its score is in every decision of the log.

To see the version of every score (not only of alerts), the test's models score every
transaction about 0.5 with a threshold of 0.01: every transaction alerts, and every alert
carries the `model_version` that scored it."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from flink_job.config import LOCAL_PROPERTIES, PROPERTIES_ENV
from local.aws import LocalAws
from local.flink.rest import FlinkRest
from local.flink.running import RunningPipeline, wait_for, wait_quiet
from local.traffic.replay import read_records
from model_export.registry import Registry
from tests.test_registry import write_model
from udfs.metrics import FETCH_FAILURES, REFUSALS, SCORED, SWAPS, rest_metric_id

pytestmark = pytest.mark.integration

ROOT = "s3://models/fraud/"
POLL_MS = 200  # the scorer's background poll reads the pointer this often
# The scorer counts a swap or refusal when it next scores, so after a promote single
# transactions go through until the scores or the metric show it: at most this many.
MAX_PROBES = 50


def _properties(path: Path, endpoint: str) -> Path:
    groups = json.loads(LOCAL_PROPERTIES.read_text())
    props = groups[0]["PropertyMap"]
    props.update(
        {"aws.endpoint": endpoint, "model.path": ROOT, "model.poll_interval_ms": str(POLL_MS)}
    )
    path.write_text(json.dumps(groups))
    return path


def test_promote_swaps_the_model_without_a_restart_and_a_foreign_schema_is_refused(
    tmp_path: Path, sample_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = read_records(sample_path)[: 450 + 2 * MAX_PROBES]
    batches = {"a": records[:200], "b": records[200:350], "refused": records[350:450]}
    probes = iter(records[450:])
    probed: list[str] = []
    with LocalAws(buckets=("models",)) as aws:
        registry = Registry(ROOT, aws.endpoint)
        for version in ("m-a", "m-b"):
            registry.publish_dir(write_model(tmp_path / version, version, threshold=0.01))
        registry.publish_dir(
            write_model(tmp_path / "m-c", "m-c", threshold=0.01, schema_hash="0" * 64)
        )
        registry.promote("m-a")
        monkeypatch.setenv(PROPERTIES_ENV, str(_properties(tmp_path / "props.json", aws.endpoint)))

        with RunningPipeline(aws, ROOT) as pipeline:

            def send_and_wait(batch: list[str]) -> None:
                expected = pipeline.alerts.count() + len(batch)
                assert pipeline.send(batch, rate=2_000, progress=False).failed == 0
                wait_for(lambda: pipeline.alerts.count() >= expected, 120, "every alert")

            def probe_until(done: Callable[[str], bool], what: str) -> None:
                """Sends one transaction at a time until `done` holds for one's id."""
                for _ in range(MAX_PROBES):
                    probe = next(probes)
                    probed.append(probe)
                    send_and_wait([probe])
                    if done(json.loads(probe)["transaction_id"]):
                        return
                    time.sleep(POLL_MS / 1000)
                raise AssertionError(f"{what} not seen after {MAX_PROBES} transactions")

            def scored_by(transaction_id: str) -> str:
                alerts = pipeline.alerts.received
                return next(
                    str(a.record["model_version"])
                    for a in alerts
                    if a.record["transaction_id"] == transaction_id
                )

            send_and_wait(batches["a"])
            registry.promote("m-b")
            probe_until(lambda tx: scored_by(tx) == "m-b", "the swap to m-b")
            send_and_wait(batches["b"])
            registry.promote("m-c")
            probe_until(lambda _: pipeline.metric(REFUSALS) >= 1, "m-c refused")
            send_and_wait(batches["refused"])
            wait_quiet(pipeline.alerts, quiet_s=1.0, timeout_s=30)  # nothing more may arrive
            rest = FlinkRest(pipeline.rest_port)
            job = rest.running_job_ids()[0]

            # every transaction alerts (the test models score 0.5 whatever the features)
            expected_metrics = {
                SCORED: float(450 + len(probed)),
                SWAPS: 1.0,
                REFUSALS: 1.0,
                FETCH_FAILURES: 0.0,
            }

            def read_metrics() -> dict[str, float]:
                # the metrics' ids in the group Managed Flink forwards to CloudWatch
                return {n: rest.metric_total(job, rest_metric_id(n)) for n in expected_metrics}

            # the REST API serves metrics from a store it refreshes (every 500 ms here); the
            # assertion below says which differ if they never match
            with contextlib.suppress(TimeoutError):
                wait_for(lambda: read_metrics() == expected_metrics, 30, "the metrics")
            metrics = read_metrics()
            alerts = [a.record for a in pipeline.alerts.received]

    version_of = {a["transaction_id"]: a["model_version"] for a in alerts}
    assert len(alerts) == len(version_of) == 450 + len(probed)  # one alert each, none lost
    for expected, batch in (("m-a", "a"), ("m-b", "b"), ("m-b", "refused")):
        ids = [json.loads(r)["transaction_id"] for r in batches[batch]]
        assert {version_of[i] for i in ids} == {expected}, batch
    assert metrics == expected_metrics


def test_a_shadow_scoring_every_transaction_1_alerts_none_and_is_in_every_decision(
    tmp_path: Path, sample_path: Path
) -> None:
    """The serving model scores 0.5 under its threshold of 0.9, the shadow 1.0: no alert,
    and every decision in the log carries the shadow's score."""
    records = read_records(sample_path)[:300]
    sent = {json.loads(r)["transaction_id"] for r in records}
    with LocalAws(buckets=("models",)) as aws:
        registry = Registry(ROOT, aws.endpoint)
        registry.publish_dir(write_model(tmp_path / "m-low", "m-low", threshold=0.9))
        registry.publish_dir(write_model(tmp_path / "m-high", "m-high", intercept=50.0))
        registry.promote("m-low")
        registry.add_shadow("m-high")
        with RunningPipeline(aws, ROOT) as pipeline:
            assert pipeline.send(records, rate=2_000, progress=False).failed == 0

            def decided() -> set[str]:
                return {d["transaction_id"] for d in pipeline.decision_records()}

            wait_for(lambda: sent <= decided(), 180, "a decision for every transaction")
            wait_for(lambda: pipeline.scored() == len(sent), 30, "the scored metric")
            scored = pipeline.scored()
            decisions = pipeline.decision_records()
            alerts = pipeline.alerts.received

    assert alerts == []
    assert {d["transaction_id"] for d in decisions} == sent and scored == len(sent)
    for decision in decisions:
        assert decision["model_version"] == "m-low" and decision["score"] == 0.5
        assert decision["shadow_scores"] == {"m-high": 1.0}
        assert decision["alerted"] is False
