"""A new or changed feature goes live warm: the job's state is built from the archive
(local.traffic.bootstrap), and a job bootstrapped from N days of archive, then fed the rest live,
gives the features of a job that saw everything live.

The archive here is the local Firehose emulation's (local.aws.archive), holding 12 days of the
committed sample and the labels reported by then; the rest (two more days, and every label
reported after the twelfth) goes on the live streams after the restore. Everything runs as
deployed: RocksDB, a savepoint without draining, the same job code with only its stream
names and nothing else changed between the two runs."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from flink_job.features import FEATURE_NAMES
from local.aws import DEFAULT_STREAMS, LocalAws, read_stream
from local.aws.archive import ARCHIVE_BUCKET, deliver
from local.flink.running import RunningPipeline, wait_for
from local.traffic.bootstrap import Streams, load, outcomes, plan, wait
from local.traffic.replay import read_records, replay
from model_export.archive import LABELS, TRANSACTIONS, ArchiveError, ArchiveRange
from model_export.feature_table import compute_features
from tests.savepoint_support import MODEL_VERSION, ROCKSDB, SAMPLE, stateful_operators
from tests.test_registry import write_model

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_LABELS = ROOT / "sample_data" / "sample_labels.jsonl"
FIRST, CUT, END = date(2026, 10, 1), date(2026, 10, 13), date(2026, 10, 15)
OVERLAP = CUT - timedelta(days=1)
BOOTSTRAP = Streams("bootstrap-")
LIVE = Streams("")

pytestmark = pytest.mark.integration


def _day(line: str, key: str) -> str:
    return str(json.loads(line)[key])[:10]


def split() -> tuple[list[str], list[str], list[str], list[str]]:
    """Archived and live transactions, archived and live labels."""
    records = [r for r in read_records(SAMPLE) if r.startswith("{") and '"event_time"' in r]
    records = [r for r in records if _day(r, "event_time") < END.isoformat()]
    records.sort(key=lambda r: json.loads(r)["event_time"])
    archived = [r for r in records if _day(r, "event_time") < CUT.isoformat()]
    live = [r for r in records if _day(r, "event_time") >= CUT.isoformat()]
    ids = {json.loads(r)["transaction_id"] for r in records}
    labels = [
        x for x in SAMPLE_LABELS.read_text().splitlines() if json.loads(x)["transaction_id"] in ids
    ]
    archived_ids = {json.loads(r)["transaction_id"] for r in archived}
    known = [
        x
        for x in labels
        if json.loads(x)["transaction_id"] in archived_ids
        and _day(x, "reported_at") < CUT.isoformat()
    ]
    later = [x for x in labels if x not in set(known)]
    later.sort(key=lambda x: json.loads(x)["reported_at"])
    return archived, live, known, later


def test_load_leaves_what_the_live_streams_hold_and_refuses_a_gap() -> None:
    a = json.dumps({"transaction_id": "a", "event_time": "2026-10-01T00:00:00Z"})
    b = json.dumps({"transaction_id": "b", "event_time": "2026-10-01T00:00:01Z"})
    c = json.dumps({"transaction_id": "c", "event_time": "2026-10-01T00:00:02Z"})
    label = json.dumps({"transaction_id": "a", "label": "fraud", "reported_at": "2026-10-02"})
    result = plan([c, a, b], [label], [b, c], [label], timedelta(0))
    assert result.transactions == [a] and result.labels == [] and result.on_live == 2
    assert plan([a, b, c], [], [], [], timedelta(seconds=1)).tail == 2  # b and c: within 1 s
    with pytest.raises(ArchiveError, match="before the oldest record on the live"):
        plan([a], [], [c], [], timedelta(0))


def test_a_job_bootstrapped_from_the_archive_then_fed_live_has_the_features_of_one_that_saw_all(
    tmp_path: Path,
) -> None:
    archived, live, known, later = split()
    live_ids = {json.loads(r)["transaction_id"] for r in live}
    model = write_model(tmp_path / "model", MODEL_VERSION, threshold=0.01)
    arrival = datetime(2026, 10, 13, tzinfo=UTC)
    with LocalAws(streams=(*DEFAULT_STREAMS, *BOOTSTRAP.all()), buckets=(ARCHIVE_BUCKET,)) as aws:
        s3, kinesis = aws.client("s3"), aws.client("kinesis")
        deliver(s3, ARCHIVE_BUCKET, TRANSACTIONS, [r.encode() for r in archived], now=arrival)
        deliver(s3, ARCHIVE_BUCKET, LABELS, [x.encode() for x in known], now=arrival)
        # the live stream still holds the archive's last day, which the running
        # application decided: the bootstrap leaves it to the live job, which reads it
        # again for its state but decides none of it (outputs.since_ms)
        retained = [r for r in archived if _day(r, "event_time") == OVERLAP.isoformat()]
        replay(kinesis, LIVE.transactions, retained, rate=5_000, progress=False)
        since_ms = int(time.time() * 1000) + 1
        time.sleep(0.01)
        archive = ArchiveRange(f"s3://{ARCHIVE_BUCKET}", FIRST, CUT - timedelta(days=1))
        loaded = load(s3, kinesis, archive, BOOTSTRAP, LIVE, timedelta(0), 5_000, progress=False)
        assert loaded.on_live == len(retained) > 100
        assert len(loaded.transactions) == len(archived) - len(retained)
        assert len(loaded.labels) == len(known)

        with RunningPipeline(aws, str(model), flink=ROCKSDB, **BOOTSTRAP.job_overrides()) as job:
            expect = len(loaded.transactions) - loaded.tail
            wait(lambda: outcomes(kinesis, BOOTSTRAP), expect, quiet_s=3, timeout_s=240)
            savepoint = job.rest.stop_with_savepoint(
                job.job_ids()[0], (tmp_path / "bootstrapped").as_uri()
            )
        for sink in ("alerts", "decisions"):  # nothing of the bootstrap reached the analysts
            assert not list(read_stream(aws, LIVE.name(sink)))

        restore = {
            **ROCKSDB,
            "execution.savepoint.path": savepoint,
            "execution.savepoint.ignore-unclaimed-state": "true",
        }
        with RunningPipeline(aws, str(model), flink=restore, outputs_since_ms=since_ms) as job:
            replay(job.kinesis, job.config.labels_stream, later, rate=5_000, progress=False)
            job.send(live, rate=2_000, progress=False)
            wait_for(
                lambda: live_ids <= {a.record["transaction_id"] for a in job.alerts.received},
                240,
                "an alert for every live transaction",
            )
            streamed = {
                a.record["transaction_id"]: a.record["features"]
                for a in job.alerts.received
                if a.record["transaction_id"] in live_ids
            }
            taken = job.rest.stop_with_savepoint(job.job_ids()[0], (tmp_path / "taken").as_uri())
            decided = {d["transaction_id"] for d in job.decision_records()}
    # the live job alerted on the live transactions only, each once: not on the retained
    # day nor on the bootstrap's last transaction, decided after the restore; their
    # decisions are logged again, under the decision_id the log's reader de-duplicates by
    alerted = [a.record["transaction_id"] for a in job.alerts.received]
    assert sorted(alerted) == sorted(live_ids)
    retained_ids = {json.loads(r)["transaction_id"] for r in retained}
    assert live_ids | retained_ids <= decided

    # the same operators: every state the bootstrap built was claimed by the live job
    kept = stateful_operators(taken)
    unclaimed = {op: names for op, names in stateful_operators(savepoint).items() if op not in kept}
    assert all(names <= {"writer_raw_states"} for names in unclaimed.values()), unclaimed

    everything = tmp_path / "everything.jsonl"
    everything.write_text("\n".join(archived + live) + "\n")
    all_labels = tmp_path / "labels.jsonl"
    all_labels.write_text("\n".join(known + later) + "\n")
    expected = compute_features(everything, labels=all_labels).set_index("transaction_id")
    expected = expected.loc[sorted(live_ids)]
    actual = pd.DataFrame.from_dict(streamed, orient="index").loc[sorted(live_ids)]
    for feature in FEATURE_NAMES:
        pd.testing.assert_series_equal(
            actual[feature].astype(float), expected[feature], check_names=False, rtol=1e-9
        )
    # the archive's labels mattered: some live transactions see a fraud on their terminal
    assert (expected["terminal_fraud_risk_7d"] > 0).sum() > 5
    # the history mattered: a cold job (the live days alone) has other features
    cold_path = tmp_path / "cold.jsonl"
    cold_path.write_text("\n".join(live) + "\n")
    cold = compute_features(cold_path, labels=all_labels).set_index("transaction_id")
    names = list(FEATURE_NAMES)
    assert (cold.loc[sorted(live_ids), names] != expected[names]).any().any()
