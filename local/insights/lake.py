"""The alerts lake as a DuckDB view: objects copied from S3, read in the Glue table's schema.

The objects are downloaded with boto3 (DuckDB's httpfs extension would have to be fetched at
run time) into a directory that keeps their `dt=…/hour=…/` keys, so DuckDB's Hive
partitioning gives the same `dt` and `hour` columns as the Glue table's partition keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from .figures import HIVE_TO_DUCKDB, LAKE_COLUMNS, PARTITION_COLUMNS

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

VIEW = "alerts"


def download_lake(s3: S3Client, bucket: str, prefix: str, into: Path) -> int:
    """Copy every `.json` object under `prefix` to `into`, keeping its key below the prefix."""
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            key = entry["Key"]
            if not key.endswith(".json"):
                continue
            target = into / key[len(prefix) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(target))
            count += 1
    return count


def duckdb_columns() -> dict[str, str]:
    return {name: HIVE_TO_DUCKDB[hive_type] for name, hive_type in LAKE_COLUMNS}


def _struct(mapping: dict[str, str]) -> str:
    return "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in mapping.items()) + "}"


def open_lake(connection: duckdb.DuckDBPyConnection, root: Path) -> None:
    """Create the view `alerts` over the lake files under `root` (empty when there are none)."""
    if not any(root.glob("*/*/*.json")):
        columns = {**duckdb_columns(), **dict.fromkeys(PARTITION_COLUMNS, "VARCHAR")}
        body = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
        connection.execute(f"CREATE TABLE empty_lake ({body})")
        connection.execute(f"CREATE VIEW {VIEW} AS SELECT * FROM empty_lake")
        return
    pattern = str(root / "*" / "*" / "*.json").replace("'", "''")
    hive_types = dict.fromkeys(PARTITION_COLUMNS, "VARCHAR")
    connection.execute(
        f"CREATE VIEW {VIEW} AS SELECT * FROM read_json('{pattern}', "
        f"columns = {_struct(duckdb_columns())}, format = 'newline_delimited', "
        f"hive_partitioning = true, hive_types = {_struct(hive_types)})"
    )


def read_columns(connection: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """The view's columns and DuckDB types, as the figures see them."""
    described = connection.execute(f"DESCRIBE {VIEW}").fetchall()
    return [(str(row[0]), str(row[1])) for row in described]
