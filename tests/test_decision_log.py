"""The decision log without Flink: the job's decision_id and sampling SQL are the contract's
(run in DuckDB, as the severity bands are), local.aws.archive delivers Decision v1 records as
the log's Firehose does (dt and hour partitions, Parquet in the Glue table's columns, bad
records under errors/), and model_export.decision_log counts each decision once however
many times it was delivered."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from contracts.decision import DECISION_V1, decision_id, kept, sample_weight
from flink_job.decide import decision_id_sql, decision_values, kept_sql
from flink_job.features import FEATURE_NAMES
from local.aws import LocalAws
from local.aws.archive import (
    CONVERSION_FAILED,
    PARTITIONING_FAILED,
    deliver_decisions,
    parquet_size,
)
from model_export.archive import ArchiveError, ArchiveRange
from model_export.decision_log import COLUMNS, arrow_schema, main, read_counts

BUCKET = "archive"
ARRIVAL = datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws(streams=()) as local:
        yield local


def decision(
    transaction: str, hour: int = 12, alerted: bool = False, rate: float = 1.0
) -> dict[str, Any]:
    """A Decision v1 record as the job writes it."""
    return {
        "schema": "decision.v1",
        "decision_id": decision_id(transaction),
        "transaction_id": transaction,
        "event_time": f"2026-10-05T{hour:02d}:30:00.000Z",
        "card_id": "card_000001",
        "terminal_id": "term_00001",
        "amount": 12.5,
        "currency": "EUR",
        "merchant_category": None,
        "country": "FR",
        "channel": "pos",
        "features": dict.fromkeys(FEATURE_NAMES, 1.0),
        "model_version": "m-1",
        "score": 0.9 if alerted else 0.1,
        "threshold": 0.5,
        "shadow_scores": None,
        "alerted": alerted,
        "severity": "high" if alerted else None,
        "reasons": ["amount far above the card's usual"] if alerted else None,
        "reason_codes": ["AMOUNT"] if alerted else None,
        "ruleset_version": None,
        "rule_hits": None,
        "shadow_rule_hits": None,
        "late": False,
        "ingested_at": f"2026-10-05T{hour:02d}:30:00.100Z",
        "decided_at": f"2026-10-05T{hour:02d}:30:00.200Z",
        "sample_weight": sample_weight(alerted, rate),
    }


def test_the_jobs_decision_fields_are_the_contracts() -> None:
    assert set(decision_values(0.5)) == set(DECISION_V1.names())
    assert list(decision("tx")) == list(DECISION_V1.names())


@pytest.mark.parametrize("rate", [0.001, 0.1, 0.25, 0.5, 0.999, 1.0])
def test_the_jobs_decision_id_and_sampling_sql_are_the_contracts(rate: float) -> None:
    ids = [f"tx-{n}" for n in range(4000)]
    rows = ", ".join(f"('{i}', {str(n % 7 == 0).upper()})" for n, i in enumerate(ids))
    query = (
        f"SELECT transaction_id, alerted, decision_id, {kept_sql(rate)} FROM ("
        f"SELECT *, {decision_id_sql()} AS decision_id "
        f"FROM (VALUES {rows}) AS t(transaction_id, alerted))"
    )
    result = duckdb.sql(query).fetchall()
    assert [row[2] for row in result] == [decision_id(i) for i in ids]
    assert [row[3] for row in result] == [kept(row[2], row[1], rate) for row in result]
    non_alerts = [row for row in result if not row[1]]
    share = sum(row[3] for row in non_alerts) / len(non_alerts)
    assert share == pytest.approx(rate, abs=0.03)
    assert all(row[3] for row in result if row[1])  # alerts are never sampled away


def test_a_replay_keeps_the_same_decisions() -> None:
    ids = [f"tx-{n}" for n in range(1000)]
    first = [i for i in ids if kept(decision_id(i), False, 0.3)]
    assert first == [i for i in ids if kept(decision_id(i), False, 0.3)]
    assert set(first) <= {i for i in ids if kept(decision_id(i), False, 0.6)}  # nested rates


def test_decisions_land_in_dt_and_hour_partitions_as_parquet_in_the_glue_columns(
    aws: LocalAws,
) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="layout")
    records = [json.dumps(decision(f"tx-{n}", hour=n % 2 + 9)) for n in range(6)]
    bad = [
        "not json",
        json.dumps({**decision("tx-bad-time"), "event_time": 7}),
        json.dumps({**decision("tx-bad-flag"), "alerted": "yes"}),
    ]
    delivery = deliver_decisions(s3, "layout", [*records, *bad], now=ARRIVAL)
    assert delivery.partitions == {"2026-10-05/hour=09": 3, "2026-10-05/hour=10": 3}
    assert delivery.errors == {PARTITIONING_FAILED: 2, CONVERSION_FAILED: 1}
    parquet = [k for k in delivery.keys if k.endswith(".parquet")]
    assert all(k.startswith("decisions/dt=2026-10-05/hour=") for k in parquet)
    body = s3.get_object(Bucket="layout", Key=parquet[0])["Body"].read()
    table = pq.read_table(io.BytesIO(body))
    assert table.schema.equals(arrow_schema())
    row = table.to_pylist()[0]
    assert dict(row["features"]) == dict.fromkeys(FEATURE_NAMES, 1.0)
    assert row["alerted"] is False and row["reasons"] is None
    assert [name for name, _ in COLUMNS] == list(DECISION_V1.names())


def test_every_query_counts_a_redelivered_decision_once(aws: LocalAws) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    rate = 0.25
    ids = [f"tx-{n}" for n in range(400)]
    alerted = {i for n, i in enumerate(ids) if n % 10 == 0}
    log = [
        json.dumps(decision(i, alerted=i in alerted, rate=rate))
        for i in ids
        if kept(decision_id(i), i in alerted, rate)
    ]
    deliver_decisions(s3, BUCKET, log)
    deliver_decisions(s3, BUCKET, log[: len(log) // 2])  # a restart re-wrote half of them
    window = ArchiveRange(f"s3://{BUCKET}", date(2026, 10, 5), date(2026, 10, 5))
    counts = read_counts(window, s3)
    assert counts.copies == len(log) + len(log) // 2
    assert counts.decisions == len(log)
    assert counts.alerts == len(alerted)
    kept_non_alerts = len(log) - len(alerted)
    assert counts.reweighted == len(alerted) + kept_non_alerts / rate
    empty = ArchiveRange(f"s3://{BUCKET}", date(2026, 10, 6), date(2026, 10, 7))
    assert read_counts(empty, s3).decisions == 0


def test_the_command_prints_a_ranges_counts(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="command")
    deliver_decisions(s3, "command", [json.dumps(decision("tx-1", alerted=True))])
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.endpoint)
    for name, value in (("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local")):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert main(["--archive", "s3://command", "--from", "2026-10-05", "--to", "2026-10-05"]) == 0
    assert "1 decisions (1 delivered rows), 1 alerts" in capsys.readouterr().out


def test_a_full_buffer_of_decisions_is_smaller_in_parquet_than_on_the_stream() -> None:
    records = [json.dumps(decision(f"tx-{n}", alerted=n % 9 == 0)).encode() for n in range(300)]
    size = parquet_size(records)
    assert 0 < size < sum(len(r) for r in records)


def test_an_object_that_is_not_parquet_is_named_not_crashed_on(
    aws: LocalAws, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="stray")
    deliver_decisions(s3, "stray", [json.dumps(decision("tx-1"))])
    stray = "decisions/dt=2026-10-05/hour=12/notes.txt"
    s3.put_object(Bucket="stray", Key=stray, Body=b"not parquet at all")
    window = ArchiveRange("s3://stray", date(2026, 10, 5), date(2026, 10, 5))
    with pytest.raises(ArchiveError, match=f"s3://stray/{stray} is not Parquet"):
        read_counts(window, s3)
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.endpoint)
    for name, value in (("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local")):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with pytest.raises(SystemExit) as exited:
        main(["--archive", "s3://stray", "--from", "2026-10-05", "--to", "2026-10-05"])
    assert exited.value.code == 1
    assert "is not Parquet" in capsys.readouterr().err
