"""Crash recovery, proven: the job's processes are SIGKILLed five times at random points
while transactions stream in, and each time it restarts from its latest retained checkpoint
(as Managed Flink restarts a failed job). Then, per transaction: every valid transaction was
scored (it alerted: the model alerts on every transaction), every copy of its alert carries
the features the batch engine computes over the whole history, and the fan-out's effects
(DynamoDB item, lake object, e-mail) happen exactly once per alert although the alerts
stream holds the replayed copies. The decision log holds the replayed decisions too (the
lake is not compacted); the de-duplicating reader (model_export.decision_log), through
which every query reads it, counts each transaction's decision once."""

from __future__ import annotations

import dataclasses
import json
import random
import threading
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flink_job.features import FEATURE_NAMES
from lambdas.alert_fanout.config import FanoutConfig
from local.aws import LocalAws
from local.aws.archive import ARCHIVE_BUCKET, archive_decisions
from local.aws.lambda_poller import provision_fanout, run_fanout
from local.flink.running import RunningPipeline, latest_checkpoint, wait_for
from local.traffic.replay import read_records
from model_export.archive import ArchiveRange
from model_export.decision_log import COPIES_VIEW, VIEW, read_log
from model_export.feature_table import compute_features
from tests.test_registry import write_model

pytestmark = pytest.mark.integration

KILLS = 5
TRANSACTIONS = 600
RATE = 20  # transactions/s: each segment is still streaming in when the job is killed
SEED = 2026


def checkpointing(directory: Path) -> dict[str, str]:
    return {
        "execution.checkpointing.interval": "1 s",
        "execution.checkpointing.min-pause": "200 ms",
        "state.checkpoints.dir": directory.as_uri(),
    }


def sender(pipeline: RunningPipeline, records: list[str]) -> threading.Thread:
    thread = threading.Thread(target=pipeline.send, args=(records, RATE, False), daemon=True)
    thread.start()
    return thread


def crash_mid_stream(pipeline: RunningPipeline, segment: list[str], rng: random.Random) -> None:
    """Once the job has taken a checkpoint of its own (so it makes progress), stream the
    segment in and kill the job at a random moment after it wrote an alert past its latest
    checkpoint (so that alert is written again after the restore)."""
    job = pipeline.job_ids()[0]
    wait_for(lambda: pipeline.rest.completed_checkpoints(job) >= 1, 120, "a checkpoint")
    sending = sender(pipeline, segment)
    while True:
        checkpoints, written = pipeline.rest.completed_checkpoints(job), pipeline.alerts.count()
        wait_for(lambda n=written: pipeline.alerts.count() > n, 120, "an alert")
        if pipeline.rest.completed_checkpoints(job) == checkpoints:
            break
    threading.Event().wait(rng.uniform(0.0, 0.2))
    pipeline.kill()
    sending.join()


def settings_for(checkpoints: Path, first: bool) -> dict[str, str]:
    settings = checkpointing(checkpoints)
    if not first:
        restore = latest_checkpoint(checkpoints)
        assert restore is not None, "no checkpoint was retained"
        settings["execution.savepoint.path"] = restore
    return settings


def alerts_for_all(pipeline: RunningPipeline, ids: set[str]) -> list[dict[str, Any]]:
    tail = pipeline.alerts
    wait_for(
        lambda: ids <= {a.record["transaction_id"] for a in tail.received},
        300,
        "an alert for every transaction",
    )
    return [a.record for a in tail.received]


def run_with_crashes(tmp_path: Path, aws: LocalAws, records: list[str]) -> list[dict[str, Any]]:
    """Six runs of the job over six segments of the stream: the first five killed."""
    model = str(write_model(tmp_path / "model", "m-crash", threshold=0.01))
    checkpoints = tmp_path / "checkpoints"
    rng = random.Random(SEED)
    size = len(records) // (KILLS + 1)
    segments = [records[i * size : (i + 1) * size] for i in range(KILLS)]
    for index, segment in enumerate(segments):
        with RunningPipeline(aws, model, flink=settings_for(checkpoints, index == 0)) as job:
            crash_mid_stream(job, segment, rng)
    with RunningPipeline(aws, model, flink=settings_for(checkpoints, False)) as job:
        sender(job, records[KILLS * size :]).join()
        return alerts_for_all(job, {json.loads(r)["transaction_id"] for r in records})


def fan_out(aws: LocalAws) -> FanoutConfig:
    config = dataclasses.replace(FanoutConfig(), email_min_severity="medium")
    queue_url = provision_fanout(aws.client, config)
    run_fanout(aws, config, queue_url, batch_size=50, timeout_s=900)
    return config


def stored_items(aws: LocalAws, table: str) -> list[dict[str, Any]]:
    pages = aws.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    return [item for page in pages for item in page["Items"]]


def lake_keys(aws: LocalAws, config: FanoutConfig) -> list[str]:
    pages = aws.client("s3").get_paginator("list_objects_v2")
    return [
        o["Key"]
        for page in pages.paginate(Bucket=config.alerts_bucket, Prefix=config.lake_prefix)
        for o in page.get("Contents", [])
    ]


def emails_sent(aws: LocalAws, config: FanoutConfig) -> int:
    """E-mails SES accepted: its send counter counts recipients (moto's whole-state dump,
    `sent_emails`, is too slow with a stream this long in it)."""
    recipients = aws.client("ses").get_send_quota()["SentLast24Hours"]
    return int(recipients) // len(config.email_to)


def decision_log_counts(aws: LocalAws, records: list[str]) -> dict[str, tuple[int, int]]:
    """Per transaction: its rows in the decision log's objects, and in the de-duplicating
    view every query reads."""
    days = sorted(json.loads(r)["event_time"][:10] for r in records)
    window = ArchiveRange(
        f"s3://{ARCHIVE_BUCKET}", date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    )

    def per_transaction(connection: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
        rows = connection.execute(
            f"SELECT c.transaction_id, c.copies, coalesce(d.decisions, 0) FROM "
            f"(SELECT transaction_id, count(*) AS copies FROM {COPIES_VIEW} GROUP BY 1) c "
            f"LEFT JOIN (SELECT transaction_id, count(*) AS decisions FROM {VIEW} GROUP BY 1) d "
            "USING (transaction_id)"
        ).fetchall()
        return {str(t): (int(copies), int(once)) for t, copies, once in rows}

    return read_log(window, per_transaction, aws.client("s3"))


def test_five_kills_lose_no_transaction_and_double_no_effect(
    tmp_path: Path, sample_path: Path
) -> None:
    records = sorted(
        (r for r in read_records(sample_path) if r.startswith("{")),
        key=lambda r: json.loads(r)["event_time"],
    )[:TRANSACTIONS]
    ids = [json.loads(r)["transaction_id"] for r in records]
    with LocalAws() as aws:
        alerts = run_with_crashes(tmp_path, aws, records)
        archive_decisions(aws, "decisions")
        logged = decision_log_counts(aws, records)
        config = fan_out(aws)
        items = stored_items(aws, config.alerts_table)
        keys = lake_keys(aws, config)
        emails = emails_sent(aws, config)

    # no transaction lost: each alerted, some more than once (replayed after a restore)
    copies = Counter(a["transaction_id"] for a in alerts)
    assert set(copies) == set(ids)
    replayed = sum(n - 1 for n in copies.values())
    assert replayed > 0  # the stream holds replayed copies: the fan-out had to see through them
    print(
        f"kills {KILLS}, alerts {len(alerts)} for {len(ids)} transactions, replayed {replayed}, "
        f"items {len(items)}, lake objects {len(keys)}, e-mails {emails}"
    )

    # every copy carries the features of the whole history, as the batch engine computes them
    history = tmp_path / "history.jsonl"
    history.write_text("\n".join(records) + "\n")
    expected = compute_features(history).set_index("transaction_id")
    for alert in alerts:
        want = expected.loc[alert["transaction_id"]]
        for name in FEATURE_NAMES:
            assert alert["features"][name] == pytest.approx(float(want[name]), rel=1e-9), (
                alert["transaction_id"],
                name,
            )

    # effects exactly once per alert, whatever the stream repeated
    alert_ids = {a["alert_id"] for a in alerts}
    assert len(items) == len(alert_ids)
    assert len(keys) == len(set(keys)) == len(alert_ids)
    statuses = Counter(item["email_status"]["S"] for item in items)
    print(f"e-mail statuses {dict(statuses)}")
    assert set(statuses) <= {"sent", "summarised", "pending"}
    assert emails == statuses["sent"]  # one e-mail per headline alert, none twice
    headlines = [i["email_message_id"]["S"] for i in items if i["email_status"]["S"] == "sent"]
    assert len(headlines) == len(set(headlines))

    # the decision log: replayed decisions in its objects, each counted once by the reader
    assert set(logged) == set(ids)
    delivered = sum(copies for copies, _ in logged.values())
    assert delivered > len(ids)  # the lake holds the replayed copies ...
    assert all(once == 1 for _, once in logged.values())  # ... every query counts one
    print(f"decision log: {delivered} rows delivered for {len(ids)} decisions, each counted once")
