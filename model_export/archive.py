"""Read a date range of the transaction and label archive (infra/terraform/modules/archive).

The archive is what Firehose wrote from the `transactions` and `labels` streams:

    s3://<bucket>/transactions/dt=YYYY-MM-DD/<objects>   Parquet, Transaction v1 columns
    s3://<bucket>/labels/dt=YYYY-MM-DD/<objects>         Parquet, Label v1 columns,
                                                          by the day of the transaction

A range of days is a set of `dt=` partitions of each (a label sits in its transaction's
day, so the labels of a range of transactions are the same partitions). Every object in a
partition is read as Parquet, whatever its name ends with. The archive keeps every record
the streams carried, accepted or not, and Firehose delivers at least once: the
transactions go back to JSON lines for the job's own parser and feature views
(model_export.feature_table), which reject what the job rejects; exact duplicates
(a redelivery) are dropped.

The training label of a transaction is its label in force when the archive is read
(contracts/label.py: the one with the latest `reported_at` not after that time, whatever
its source; on a tie, fraud): `fraud` is 1, `legit` 0, and a transaction without a label
counts as legit (no chargeback, no analyst verdict), as the job's terminal risk counts it.

    python -m model_export.train --archive s3://bucket --from 2026-10-01 --to 2026-11-04 out/

Set AWS_ENDPOINT_URL (or pass `endpoint`) to read the local moto server.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from contracts.label import LABEL_V1
from contracts.transaction import TRANSACTION_V1

TRANSACTIONS = "transactions"
LABELS = "labels"
#: The Glue tables' columns (infra/terraform/modules/archive, `local.columns`: Transaction
#: v1 and Label v1 as Hive types), in order; tests/test_archive.py holds them equal.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    TRANSACTIONS: TRANSACTION_V1.hive_columns(),
    LABELS: LABEL_V1.hive_columns(),
}
ARROW_TYPES = {"string": pa.string(), "double": pa.float64()}
MAX_DAYS = 3660


class ArchiveError(RuntimeError):
    """The archive or the range asked for cannot be read; the message says why."""


def arrow_schema(kind: str) -> pa.Schema:
    """The Glue table's columns of `kind` as Arrow types (Hive string → string, double →
    float64), without the `dt` partition column, which is the key prefix."""
    return pa.schema([(name, ARROW_TYPES[hive]) for name, hive in COLUMNS[kind]])


def partition_prefix(prefix: str, kind: str, day: date) -> str:
    return f"{prefix}{kind}/dt={day.isoformat()}/"


@dataclass(frozen=True)
class ArchiveRange:
    """`root` (s3://bucket or s3://bucket/prefix, the archive module's bucket) and the
    days from `start` to `end`, both included, of the transactions' event time (UTC)."""

    root: str
    start: date
    end: date

    def __post_init__(self) -> None:
        if not self.root.startswith("s3://") or not self.bucket:
            raise ArchiveError(f"the archive is an s3:// URI, not {self.root!r}")
        if self.end < self.start:
            raise ArchiveError(f"--to {self.end} is before --from {self.start}")
        if (self.end - self.start).days >= MAX_DAYS:
            raise ArchiveError(f"at most {MAX_DAYS} days at once")

    @property
    def bucket(self) -> str:
        return self.root.removeprefix("s3://").split("/", 1)[0]

    @property
    def prefix(self) -> str:
        """The key prefix of the archive in its bucket: '' or ending in '/'."""
        rest = self.root.removeprefix("s3://").partition("/")[2].strip("/")
        return f"{rest}/" if rest else ""

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def describe(self) -> str:
        return f"{self.root.rstrip('/')} from {self.start} to {self.end}"


def add_arguments(
    parser: argparse.ArgumentParser, title: str = "archive (instead of a transactions file)"
) -> None:
    """--archive, --from, --to: the same three options in every command that reads it."""
    group = parser.add_argument_group(title)
    group.add_argument(
        "--archive", metavar="S3_URI", help="the archive bucket, s3://bucket[/prefix]"
    )
    group.add_argument("--from", dest="archive_from", type=date.fromisoformat, metavar="DAY")
    group.add_argument("--to", dest="archive_to", type=date.fromisoformat, metavar="DAY")


def from_arguments(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> ArchiveRange | None:
    if args.archive is None:
        if args.archive_from or args.archive_to:
            parser.error("--from and --to need --archive")
        return None
    if args.archive_from is None or args.archive_to is None:
        parser.error("--archive needs --from and --to (YYYY-MM-DD, both included)")
    try:
        return ArchiveRange(args.archive, args.archive_from, args.archive_to)
    except ArchiveError as error:
        parser.error(str(error))


def s3_client(endpoint: str | None = None) -> Any:
    import boto3  # not at import: the SageMaker container imports this module without it

    url = endpoint or os.environ.get("AWS_ENDPOINT_URL")
    return boto3.client("s3", endpoint_url=url)


def _keys(s3: Any, bucket: str, prefix: str) -> Iterator[str]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if not item["Key"].endswith("/"):
                yield item["Key"]


def read_kind(s3: Any, archive: ArchiveRange, kind: str) -> pd.DataFrame:
    """Every archived record of `kind` in the range, in the Glue table's columns (a column
    an object lacks is null), with `dt`; exact duplicates dropped."""
    schema = arrow_schema(kind)
    tables: list[pa.Table] = []
    for day in archive.days():
        for key in sorted(_keys(s3, archive.bucket, partition_prefix(archive.prefix, kind, day))):
            body = s3.get_object(Bucket=archive.bucket, Key=key)["Body"].read()
            try:
                table = pq.read_table(io.BytesIO(body))
            except pa.ArrowInvalid as error:
                raise ArchiveError(
                    f"s3://{archive.bucket}/{key} is not Parquet: {error}"
                ) from error
            tables.append(
                _conform(table, schema).append_column(
                    "dt", pa.array([day.isoformat()] * table.num_rows)
                )
            )
    if not tables:
        empty: pd.DataFrame = schema.empty_table().to_pandas()
        return empty.assign(dt=pd.Series(dtype=object))
    frame: pd.DataFrame = pa.concat_tables(tables).to_pandas()
    return frame.drop_duplicates(ignore_index=True)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The table with exactly `schema`'s columns, in its order: Firehose writes the Glue
    columns, but an older object (a column added since) may lack one."""
    columns = []
    for field in schema:
        if field.name in table.column_names:
            columns.append(table.column(field.name).cast(field.type))
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def json_records(frame: pd.DataFrame, kind: str) -> Iterator[str]:
    """The records as the streams carried them, one JSON text each (null optional fields
    left out), in the frame's order."""
    names = [name for name, _ in COLUMNS[kind]]
    for row in frame[names].itertuples(index=False, name=None):
        record = {n: v for n, v in zip(names, row, strict=True) if _present(v)}
        yield json.dumps(record, ensure_ascii=False, allow_nan=False)


def _json_lines(frame: pd.DataFrame, kind: str, path: Path) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.writelines(line + "\n" for line in json_records(frame, kind))
    return path


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def transaction_labels(labels: pd.DataFrame, as_of: datetime | None = None) -> pd.DataFrame:
    """transaction_id and label (1 fraud, 0 legit): each transaction's label in force at
    `as_of` (every label when None): the latest by reported_at among those reported by
    then, chargebacks and analyst verdicts alike, fraud on a tie; labels other than
    fraud/legit are ignored."""
    known = labels[labels["label"].isin(["fraud", "legit"])].copy()
    known["fraud"] = (known["label"] == "fraud").astype(int)
    # As instants, not text: "…:00Z" sorts after "…:00.5Z" as a string.
    known["at"] = pd.to_datetime(known["reported_at"], utc=True, format="ISO8601", errors="coerce")
    if as_of is not None:
        known = known[known["at"] <= pd.Timestamp(as_of)]
    known = known.sort_values(["transaction_id", "at", "fraud"], kind="stable", na_position="first")
    latest = known.groupby("transaction_id", sort=True).tail(1)
    result = latest[["transaction_id", "fraud"]].rename(columns={"fraud": "label"})
    return result.reset_index(drop=True)


@dataclass(frozen=True)
class ArchiveFiles:
    """A range of the archive on local disk, in the contracts' JSON lines."""

    transactions: Path
    labels: Path
    transaction_count: int
    label_count: int
    #: transaction_id, label (0/1) of every labelled transaction
    verdicts: pd.DataFrame


def fetch(archive: ArchiveRange, workdir: Path, s3: Any | None = None) -> ArchiveFiles:
    """Download the range into `workdir` as transactions.jsonl and labels.jsonl."""
    client = s3 or s3_client()
    transactions = read_kind(client, archive, TRANSACTIONS)
    if transactions.empty:
        raise ArchiveError(
            f"no archived transactions in {archive.describe()} "
            f"(looked under s3://{archive.bucket}/{archive.prefix}{TRANSACTIONS}/dt=…/)"
        )
    labels = read_kind(client, archive, LABELS)
    workdir.mkdir(parents=True, exist_ok=True)
    return ArchiveFiles(
        transactions=_json_lines(transactions, TRANSACTIONS, workdir / "transactions.jsonl"),
        labels=_json_lines(labels, LABELS, workdir / "labels.jsonl"),
        transaction_count=len(transactions),
        label_count=len(labels),
        verdicts=transaction_labels(labels, as_of=datetime.now(UTC)),
    )
