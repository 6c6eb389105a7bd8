"""Read the decision log: every Decision v1 the job wrote, as Firehose delivered it to S3
(infra/terraform/modules/archive, `decisions`):

    s3://<bucket>/decisions/dt=YYYY-MM-DD/hour=HH/<objects>   Parquet, Decision v1 columns,
                                                               by the transaction's event time

The log holds a decision more than once when it was delivered more than once: the job's
Kinesis sink writes at least once (a restart from a checkpoint re-writes the decisions made
after it) and so does Firehose. The log is not compacted; instead every query reads the view
`decisions`, which keeps one row per `decision_id` (the earliest `decided_at`), never the
raw objects (`decision_copies`). A decision's partition comes from its transaction's event
time, so its copies sit in the same partition and a range of days has all of them.

    python -m model_export.decision_log --archive s3://bucket --from 2026-10-01 --to 2026-10-31

prints the counts of a range: copies, decisions, alerts, and the decisions re-weighted by
`sample_weight` (the scored transactions, when non-alerts were sampled).
Set AWS_ENDPOINT_URL (or pass `endpoint`) to read the local moto server.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from contracts.decision import DECISION_V1
from contracts.fields import HIVE_TO_DUCKDB
from model_export.archive import (
    ArchiveError,
    ArchiveRange,
    add_arguments,
    from_arguments,
    s3_client,
)

DECISIONS = "decisions"
#: The Glue table's columns (infra/terraform/modules/archive, `local.decision_columns`);
#: tests/test_decision_log.py holds them equal.
COLUMNS: tuple[tuple[str, str], ...] = DECISION_V1.hive_columns()
PARTITION_COLUMNS = ("dt", "hour")
ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "array<string>": pa.list_(pa.string()),
    "map<string,double>": pa.map_(pa.string(), pa.float64()),
}
T = TypeVar("T")
PARQUET_MAGIC = b"PAR1"
VIEW = "decisions"
COPIES_VIEW = "decision_copies"


def arrow_schema() -> pa.Schema:
    """The Glue table's columns as Arrow types, without the partition columns (key prefix)."""
    return pa.schema([(name, ARROW_TYPES[hive]) for name, hive in COLUMNS])


def partition_key(event_time: str) -> str | None:
    """`dt=YYYY-MM-DD/hour=HH` of an event time, as Firehose's JQ query
    `{dt: .event_time[0:10], hour: .event_time[11:13]}` cuts it; None when it cannot."""
    day, hour = event_time[0:10], event_time[11:13]
    if len(day) != 10 or len(hour) != 2:
        return None
    return f"dt={day}/hour={hour}"


def download(s3: Any, archive: ArchiveRange, into: Path) -> int:
    """Copy the range's objects to `into`, keeping their `dt=…/hour=…/` keys (each named
    .parquet: Firehose's objects have no extension). Returns how many."""
    count = 0
    for day in archive.days():
        prefix = f"{archive.prefix}{DECISIONS}/dt={day.isoformat()}/"
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=archive.bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                key: str = item["Key"]
                if key.endswith("/"):
                    continue
                relative = key[len(archive.prefix) + len(DECISIONS) + 1 :]
                target = into / f"{relative.removesuffix('.parquet')}.parquet"
                target.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(archive.bucket, key, str(target))
                if not _is_parquet(target):
                    raise ArchiveError(f"s3://{archive.bucket}/{key} is not Parquet")
                count += 1
    return count


def _is_parquet(path: Path) -> bool:
    """A Parquet file starts and ends with its magic bytes."""
    with path.open("rb") as file:
        head = file.read(4)
        if path.stat().st_size < 8:
            return False
        file.seek(-4, 2)
        return head == PARQUET_MAGIC and file.read(4) == PARQUET_MAGIC


def open_decision_log(connection: duckdb.DuckDBPyConnection, root: Path) -> None:
    """Views over the Parquet files under `root` (as `download` lays them out):
    `decision_copies`, every delivered row with `dt` and `hour`, and `decisions`, one row per
    decision_id (its earliest `decided_at`): the view every query reads."""
    files = sorted(root.glob("dt=*/hour=*/*.parquet"))
    if files:
        listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        hive_types = ", ".join(f"'{name}': 'VARCHAR'" for name in PARTITION_COLUMNS)
        connection.execute(
            f"CREATE VIEW {COPIES_VIEW} AS SELECT * FROM read_parquet([{listed}], "
            f"hive_partitioning = true, hive_types = {{{hive_types}}}, union_by_name = true)"
        )
    else:
        columns = [*COLUMNS, *((name, "string") for name in PARTITION_COLUMNS)]
        body = ", ".join(f'"{name}" {HIVE_TO_DUCKDB[hive]}' for name, hive in columns)
        connection.execute(f"CREATE TABLE empty_decision_log ({body})")
        connection.execute(f"CREATE VIEW {COPIES_VIEW} AS SELECT * FROM empty_decision_log")
    connection.execute(
        f"CREATE VIEW {VIEW} AS SELECT * FROM {COPIES_VIEW} "
        "QUALIFY row_number() OVER (PARTITION BY decision_id ORDER BY decided_at) = 1"
    )


@dataclass(frozen=True)
class LogCounts:
    """What a range of the log holds."""

    copies: int  # rows delivered, redeliveries included
    decisions: int  # distinct decision_ids
    alerts: int
    reweighted: float  # decisions re-weighted by sample_weight: the scored transactions

    def render(self) -> str:
        return (
            f"{self.decisions} decisions ({self.copies} delivered rows), {self.alerts} alerts, "
            f"{self.reweighted:,.0f} scored transactions re-weighted"
        )


def counts(connection: duckdb.DuckDBPyConnection) -> LogCounts:
    copies = connection.execute(f"SELECT count(*) FROM {COPIES_VIEW}").fetchone()
    row = connection.execute(
        f"SELECT count(*), count(*) FILTER (WHERE alerted), coalesce(sum(sample_weight), 0) "
        f"FROM {VIEW}"
    ).fetchone()
    assert copies is not None and row is not None
    return LogCounts(int(copies[0]), int(row[0]), int(row[1]), float(row[2]))


def read_log(
    archive: ArchiveRange, read: Callable[[duckdb.DuckDBPyConnection], T], s3: Any | None = None
) -> T:
    """`read` run on a connection with a range of the decision log in S3 opened (the views
    `decisions` and `decision_copies`)."""
    client = s3 or s3_client()
    with tempfile.TemporaryDirectory(prefix="decision-log-") as directory:
        download(client, archive, Path(directory))
        connection = duckdb.connect()
        try:
            open_decision_log(connection, Path(directory))
            return read(connection)
        finally:
            connection.close()


def read_counts(archive: ArchiveRange, s3: Any | None = None) -> LogCounts:
    """The counts of a range of the decision log in S3."""
    return read_log(archive, counts, s3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    archive = from_arguments(parser, args)
    if archive is None:
        parser.error("--archive, --from and --to are required")
    try:
        counts = read_counts(archive)
    except ArchiveError as error:
        parser.exit(1, f"{parser.prog}: {error}\n")
    print(f"{archive.describe()}: {counts.render()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
