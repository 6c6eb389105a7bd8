"""Lake in, page out: download the lake, compute every figure, write the page."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from .compute import FigureResult, compute_all
from .lake import download_lake, open_lake
from .page import render

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True)
class Insights:
    objects: int
    results: dict[str, FigureResult]
    page: Path


def write_insights(s3: S3Client, bucket: str, prefix: str, out: Path) -> Insights:
    with tempfile.TemporaryDirectory(prefix="alerts-lake-") as directory:
        root = Path(directory)
        objects = download_lake(s3, bucket, prefix, root)
        connection = duckdb.connect()
        try:
            open_lake(connection, root)
            results = compute_all(connection)
        finally:
            connection.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    source = f"s3://{bucket}/{prefix} ({objects} objects)"
    out.write_text(render(results, source, datetime.now(UTC)), encoding="utf-8")
    return Insights(objects, results, out)
