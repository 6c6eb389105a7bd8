"""Reading and writing transaction frames as JSON lines, CSV or Parquet."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from sample_data.records import FLOAT_COLUMNS, INT_COLUMNS, STRING_COLUMNS

FORMATS: tuple[str, ...] = ("jsonl", "csv", "parquet")
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
CHUNK_ROWS = 100_000


def format_for(path: Path, explicit: str | None = None) -> str:
    """The explicit format if given, else the one the file extension names."""
    if explicit is not None:
        if explicit not in FORMATS:
            raise ValueError(f"unknown format {explicit!r}; choose one of {', '.join(FORMATS)}")
        return explicit
    try:
        return _EXTENSIONS[path.suffix.lower()]
    except KeyError:
        raise ValueError(
            f"cannot tell the format of {path.name!r} from its extension; use --format"
        ) from None


def to_jsonl(frame: pd.DataFrame) -> str:
    """One JSON object per line, columns in frame order, each line ending in a newline."""
    if frame.empty:
        return ""
    text = frame.to_json(orient="records", lines=True, force_ascii=False)
    return text if text.endswith("\n") else text + "\n"


def write_frame(
    frame: pd.DataFrame, path: Path, fmt: str | None = None, *, progress: bool = False
) -> None:
    """Write ``frame`` to ``path`` in chunks, with a progress bar on stderr if asked."""
    chosen = format_for(path, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tqdm(
        total=len(frame),
        unit="rows",
        desc=f"writing {path.name}",
        file=sys.stderr,
        disable=not progress,
    ) as bar:
        if chosen == "parquet":
            _write_parquet(frame, path, bar)
            return
        with path.open("w", encoding="utf-8", newline="") as out:
            for start in range(0, len(frame), CHUNK_ROWS):
                chunk = frame.iloc[start : start + CHUNK_ROWS]
                if chosen == "jsonl":
                    out.write(to_jsonl(chunk))
                else:
                    out.write(chunk.to_csv(index=False, header=start == 0, lineterminator="\n"))
                bar.update(len(chunk))
            if chosen == "csv" and frame.empty:
                out.write(frame.to_csv(index=False, lineterminator="\n"))


def _write_parquet(frame: pd.DataFrame, path: Path, bar: tqdm[None]) -> None:
    schema = parquet_schema(frame)
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, max(len(frame), 1), CHUNK_ROWS):
            chunk = frame.iloc[start : start + CHUNK_ROWS]
            writer.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False))
            bar.update(len(chunk))


def parquet_schema(frame: pd.DataFrame) -> pa.Schema:
    """Arrow types by column name (strings stay strings even in an empty frame)."""
    fields = []
    for column in frame.columns:
        if column in FLOAT_COLUMNS:
            fields.append(pa.field(column, pa.float64()))
        elif column in INT_COLUMNS:
            fields.append(pa.field(column, pa.int64()))
        elif column in STRING_COLUMNS:
            fields.append(pa.field(column, pa.string()))
        else:
            fields.append(pa.field(column, pa.from_numpy_dtype(frame[column].dtype)))
    return pa.schema(fields)


def read_frame(path: Path, fmt: str | None = None, *, typed: bool = True) -> pd.DataFrame:
    """Read a file written by :func:`write_frame` back with the same column types (with
    `typed`; without, as read, ids as text: a Label v1 file's `label` is fraud/legit)."""
    chosen = format_for(path, fmt)
    if chosen == "parquet":
        frame = pd.read_parquet(path)
    elif chosen == "csv":
        frame = pd.read_csv(path, dtype=dict.fromkeys(STRING_COLUMNS, str), keep_default_na=False)
    else:
        frame = pd.read_json(
            path, lines=True, dtype=dict.fromkeys(STRING_COLUMNS, str), convert_dates=False
        )
    return _with_column_types(frame) if typed else frame


def _with_column_types(frame: pd.DataFrame) -> pd.DataFrame:
    types: dict[str, type] = {}
    types.update({c: object for c in STRING_COLUMNS if c in frame})
    types.update({c: float for c in FLOAT_COLUMNS if c in frame})
    types.update({c: int for c in INT_COLUMNS if c in frame})
    return frame.astype(types)
