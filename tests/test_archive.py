"""The transaction and label archive end to end, locally: local.aws.archive writes what the
archive's Firehose streams write (masking Lambda, dt from event_time, Parquet in the Glue
tables' columns) into a moto server's S3, model_export.archive reads a date range of it
back, and model_export.train trains from that range with one command."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from contracts.card_number import contains_card_number
from local.aws import LocalAws, aws_env
from local.aws.archive import (
    CONVERSION_FAILED,
    PARTITIONING_FAILED,
    deliver,
    demo_labels,
)
from model_export.archive import (
    COLUMNS,
    LABELS,
    TRANSACTIONS,
    ArchiveError,
    ArchiveRange,
    arrow_schema,
    fetch,
    read_kind,
    transaction_labels,
)
from tests.test_terraform_wiring import MODULES, named

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "sample_transactions.jsonl"
ARRIVAL = datetime(2026, 11, 30, 6, 0, 0, tzinfo=UTC)
CARD = "4111111111111111"


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws(streams=(), buckets=("layout", "ranges", "history")) as local:
        yield local


def transaction(n: int, day: str, **change: Any) -> dict[str, Any]:
    record = {
        "transaction_id": f"tx-{n}",
        "event_time": f"{day}T10:00:00.000Z",
        "card_id": f"card_{n % 3}",
        "terminal_id": "term_1",
        "amount": 12.5,
        "currency": "EUR",
    }
    return {**record, **change}


def objects(s3: Any, bucket: str, prefix: str = "") -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def test_reader_columns_are_the_glue_tables_terraform_creates() -> None:
    columns = named(MODULES / "archive", "locals")["columns"]
    as_terraform = {
        kind: tuple((c["name"], c["type"]) for c in cols) for kind, cols in columns.items()
    }
    assert as_terraform == COLUMNS


def test_delivery_writes_firehose_layout_masked_and_typed(aws: LocalAws) -> None:
    s3 = aws.client("s3")
    records = [
        json.dumps(transaction(1, "2026-10-01", lat=48.1, channel="pos", extra="dropped")),
        json.dumps(transaction(2, "2026-10-02", device_id=f"phone {CARD}")),
        json.dumps(transaction(3, "2026-10-02", amount="7.25", merchant_category=5411)),
        json.dumps(transaction(4, "2026-10-02", amount="twelve")),
        json.dumps({k: v for k, v in transaction(5, "x").items() if k != "event_time"}),
        f"not json {CARD}",
    ]
    delivery = deliver(s3, "layout", TRANSACTIONS, records, now=ARRIVAL)
    assert delivery.partitions == {"2026-10-01": 1, "2026-10-02": 2}
    assert delivery.errors == {CONVERSION_FAILED: 1, PARTITIONING_FAILED: 2}
    stored = objects(s3, "layout")
    stream = "fraud-stream-archive-transactions-1-2026-11-30-06-00-00-"
    day_two = [k for k in stored if k.startswith(f"transactions/dt=2026-10-02/{stream}")]
    assert len(day_two) == 1 and day_two[0].endswith(".parquet")
    table = pq.read_table(io.BytesIO(stored[day_two[0]]))
    assert table.schema.equals(arrow_schema(TRANSACTIONS))  # the Glue columns, nothing else
    rows = {r["transaction_id"]: r for r in table.to_pylist()}
    assert rows["tx-3"]["amount"] == 7.25 and rows["tx-3"]["merchant_category"] == "5411"
    assert rows["tx-2"]["device_id"] is not None
    errors = [k for k in stored if k.startswith("errors/transactions/")]
    assert {k.split("/")[2] for k in errors} == {CONVERSION_FAILED, PARTITIONING_FAILED}
    assert all("/dt=2026-11-30/" in k for k in errors)
    for key, body in stored.items():  # no card number anywhere, errors included
        if key.endswith(".parquet"):
            text = json.dumps(pq.read_table(io.BytesIO(body)).to_pylist())
        else:
            lines = body.decode().splitlines()
            text = repr([base64.b64decode(json.loads(line)["rawData"]) for line in lines])
        assert not contains_card_number(text), key


def test_a_range_reads_its_days_only_and_drops_redeliveries(aws: LocalAws) -> None:
    s3 = aws.client("s3")
    days = ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04"]
    records = [json.dumps(transaction(n, day)) for n, day in enumerate(days)]
    deliver(s3, "ranges", TRANSACTIONS, records, now=ARRIVAL)
    deliver(s3, "ranges", TRANSACTIONS, records[1:3], now=ARRIVAL)  # Firehose: at least once
    frame = read_kind(
        s3, ArchiveRange("s3://ranges", date(2026, 10, 2), date(2026, 10, 3)), TRANSACTIONS
    )
    assert sorted(frame["transaction_id"]) == ["tx-1", "tx-2"]
    assert sorted(frame["dt"]) == ["2026-10-02", "2026-10-03"]
    empty = ArchiveRange("s3://ranges", date(2026, 9, 1), date(2026, 9, 30))
    with pytest.raises(ArchiveError, match="no archived transactions"):
        fetch(empty, Path("/nonexistent"), s3)


def test_a_range_is_checked() -> None:
    with pytest.raises(ArchiveError, match="s3://"):
        ArchiveRange("/local/dir", date(2026, 10, 1), date(2026, 10, 2))
    with pytest.raises(ArchiveError, match="before"):
        ArchiveRange("s3://b", date(2026, 10, 2), date(2026, 10, 1))
    archive = ArchiveRange("s3://bucket/some/prefix/", date(2026, 10, 30), date(2026, 11, 2))
    assert (archive.bucket, archive.prefix) == ("bucket", "some/prefix/")
    assert [d.isoformat() for d in archive.days()][::3] == ["2026-10-30", "2026-11-02"]


def test_a_transactions_training_label_is_its_latest_verdict() -> None:
    labels = pd.DataFrame(
        [
            ("a", "fraud", "2026-10-05T00:00:00Z"),  # chargeback, then an analyst says legit
            ("a", "legit", "2026-10-06T00:00:00Z"),
            ("b", "legit", "2026-10-05T00:00:00Z"),  # legit, then fraud
            ("b", "fraud", "2026-10-07T00:00:00Z"),
            ("c", "legit", "2026-10-05T00:00:00Z"),  # a tie counts as fraud
            ("c", "fraud", "2026-10-05T00:00:00Z"),
            ("d", "unsure", "2026-10-05T00:00:00Z"),  # not Label v1: ignored
            ("e", "fraud", "2026-10-05T00:00:00Z"),  # as instants: ".5Z" is later than
            ("e", "legit", "2026-10-05T00:00:00.5Z"),  # "Z", though it sorts first as text
        ],
        columns=["transaction_id", "label", "reported_at"],
    )
    verdicts = transaction_labels(labels)
    assert dict(zip(verdicts["transaction_id"], verdicts["label"], strict=True)) == {
        "a": 0,
        "b": 1,
        "c": 1,
        "e": 0,
    }


def test_the_training_label_is_the_label_in_force_at_the_time_asked() -> None:
    """Flips, and a chargeback and analyst verdicts on one transaction: the latest reported
    by then wins, whatever its source."""
    labels = pd.DataFrame(
        [
            ("a", "fraud", "chargeback", "2026-10-05T00:00:00Z"),
            ("a", "legit", "analyst", "2026-10-06T00:00:00Z"),  # the chargeback was won
            ("a", "fraud", "analyst", "2026-10-08T00:00:00Z"),  # and flipped back
            ("b", "legit", "analyst", "2026-10-05T00:00:00Z"),
            ("b", "fraud", "chargeback", "2026-10-07T00:00:00Z"),
            ("c", "fraud", "analyst", "2026-10-09T00:00:00Z"),  # not reported yet on the 7th
        ],
        columns=["transaction_id", "label", "source", "reported_at"],
    )

    def in_force(day: str | None) -> dict[str, int]:
        at = None if day is None else datetime.fromisoformat(f"{day}T00:00:00+00:00")
        verdicts = transaction_labels(labels, as_of=at)
        return dict(zip(verdicts["transaction_id"], verdicts["label"], strict=True))

    assert in_force("2026-10-05") == {"a": 1, "b": 0}
    assert in_force("2026-10-06") == {"a": 0, "b": 0}
    assert in_force("2026-10-07") == {"a": 0, "b": 1}
    assert in_force("2026-10-08") == {"a": 1, "b": 1}
    assert in_force(None) == in_force("2026-10-09") == {"a": 1, "b": 1, "c": 1}


def test_trains_from_a_date_range_of_the_archive(
    aws: LocalAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `make demo` leaves in the local S3, trained from with the data scientist's one
    command (Flink batch over the archived records, then the usual training)."""
    from model_export.train import main as train_main

    s3 = aws.client("s3")
    sample = SAMPLE.read_text().splitlines()
    deliver(s3, "history", TRANSACTIONS, sample, now=ARRIVAL)
    deliver(s3, "history", LABELS, demo_labels(SAMPLE), now=ARRIVAL)
    for name, value in aws_env(aws.endpoint).items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "model"
    argv = ["--archive", "s3://history", "--from", "2026-10-01", "--to", "2026-11-04"]
    assert train_main([*argv, "--model", "logistic_regression", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    window = manifest["training_window"]
    assert window["train"]["from"] >= "2026-10-01" and window["test_to"] <= "2026-11-04"
    assert manifest["metrics"]["test"]["recall"] > 0.3
    assert (out / "model.onnx").stat().st_size > 0


def test_demo_archives_what_the_streams_carried_and_the_data_sets_labels(tmp_path: Path) -> None:
    from local.aws.archive import ARCHIVE_BUCKET, archive_demo

    sample = SAMPLE.read_text().splitlines()[:50]
    data = tmp_path / "data.jsonl"
    data.write_text("\n".join(sample) + "\n")
    with LocalAws(streams=(TRANSACTIONS, LABELS)) as local:
        kinesis = local.client("kinesis")
        for line in [*sample, "not json"]:
            kinesis.put_record(StreamName=TRANSACTIONS, Data=line.encode(), PartitionKey="k")
        transactions, labels = archive_demo(local, data)
        assert transactions.records == 50 and transactions.errors == {PARTITIONING_FAILED: 1}
        assert labels.records == 50  # one chargeback per transaction of the data set
        archive = ArchiveRange(f"s3://{ARCHIVE_BUCKET}", date(2026, 10, 1), date(2026, 10, 31))
        frame = read_kind(local.client("s3"), archive, TRANSACTIONS)
        assert sorted(frame["transaction_id"]) == sorted(
            json.loads(s)["transaction_id"] for s in sample
        )


def test_commands_take_an_archive_range_or_a_file_not_both() -> None:
    from model_export.feature_table import main as features_main
    from model_export.train import main as train_main

    range_ = ["--archive", "s3://history", "--from", "2026-10-01", "--to", "2026-10-02"]
    for command in (features_main, train_main):
        with pytest.raises(SystemExit):  # a file and the archive
            command([*range_, "transactions.jsonl", "out"])
        with pytest.raises(SystemExit):  # an open range
            command(["--archive", "s3://history", "--from", "2026-10-01", "out"])
        with pytest.raises(SystemExit):  # dates without the archive
            command(["--from", "2026-10-01", "--to", "2026-10-02", "transactions.jsonl", "out"])
