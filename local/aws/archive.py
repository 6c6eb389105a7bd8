"""The transaction and label archive, locally: what the archive's Firehose delivery streams
(infra/terraform/modules/archive/firehose.tf) write on AWS, written into the local S3.

Per record, in Firehose's order:
1. the transformation: the real masking Lambda handler (lambdas/archive_mask), called
   with Firehose's event shape, so no card number lands in the archive;
2. dynamic partitioning: `dt` is `.event_time[0:10]` (the JQ query Terraform sets); a
   record that is not a JSON object or has no string event_time fails it;
3. record format conversion: the Glue table's columns (model_export.archive.COLUMNS), an
   unknown field dropped, a missing one null, a number in a string column kept as its
   JSON text, a numeric string in a double column parsed; any other value fails it;
4. one Parquet object (Snappy) per partition and delivery, named like Firehose's
   `<stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>.parquet` under
   `<kind>/dt=YYYY-MM-DD/`; failed records as JSON lines under
   `errors/<kind>/<error type>/dt=<arrival day>/`, as Firehose's error output.

The decision log's delivery stream (`deliver_decisions`) is the same but for two steps: no
transformation (a decision holds only fields of a transaction the job accepted, whose
every string was refused if it held a card number), and `dt` and `hour` from event_time
(`decisions/dt=YYYY-MM-DD/hour=HH/`, model_export.decision_log reads it).

Not reproduced: buffering (one delivery is one object per partition), SSE-KMS, and
Firehose's retries. `make demo` archives the transactions stream it replayed and the data
set's Label v1 records (the demo puts no labels on the labels stream) with
`archive_demo`, and the decisions stream with `deliver_decisions` (`archive_decisions`
reads a stream and delivers it whole); tests/test_archive.py trains from the result.
"""

from __future__ import annotations

import base64
import io
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lambdas.archive_mask.handler import handler as mask_handler
from local.aws import LocalAws, read_stream
from model_export import decision_log
from model_export.archive import COLUMNS, LABELS, TRANSACTIONS, arrow_schema
from sample_data.formats import read_frame, to_jsonl
from sample_data.labels import LABEL_COLUMNS, derive_labels

ARCHIVE_BUCKET = "fraud-stream-archive"
STREAM_NAME = "fraud-stream-archive-{kind}"  # the module's "${var.name}-archive-${kind}"
LAMBDA_BATCH = 500
PARTITIONING_FAILED = "partitioning-failed"
CONVERSION_FAILED = "format-conversion-failed"


class ConversionError(ValueError):
    """A value the Glue column's type does not take."""


@dataclass
class Delivery:
    """What one delivery wrote: records per partition (the day; `<day>/hour=HH` in the
    decision log), failures per error type, keys."""

    kind: str
    partitions: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(self.partitions.values())


def masked(records: Sequence[bytes]) -> list[bytes]:
    """The records after the masking Lambda, called as Firehose calls it."""
    out: list[bytes] = []
    for start in range(0, len(records), LAMBDA_BATCH):
        batch = records[start : start + LAMBDA_BATCH]
        event = {
            "records": [
                {"recordId": str(n), "data": base64.b64encode(data).decode()}
                for n, data in enumerate(batch)
            ]
        }
        answer = mask_handler(event, None)["records"]
        assert [r["recordId"] for r in answer] == [str(n) for n in range(len(batch))]
        out.extend(base64.b64decode(r["data"]) for r in answer)
    return out


def partition_day(data: bytes) -> str | None:
    """`.event_time[0:10]` of a JSON object, or None where Firehose's JQ query fails."""
    try:
        document = json.loads(data)
    except ValueError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("event_time"), str):
        return None
    day: str = document["event_time"][0:10]
    return day or None


def converted(data: bytes, kind: str) -> dict[str, Any]:
    """The record as the Glue table's columns (raises ConversionError)."""
    columns = decision_log.COLUMNS if kind == decision_log.DECISIONS else COLUMNS[kind]
    document = json.loads(data)
    return {name: _value(document.get(name), hive, name) for name, hive in columns}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _value(value: Any, hive: str, name: str) -> Any:
    if value is None:
        return None
    if hive == "boolean":
        if isinstance(value, bool):
            return value
        raise ConversionError(f"{name}: {value!r} is not a boolean")
    if hive == "array<string>":
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        raise ConversionError(f"{name}: {value!r} is not a list of strings")
    if hive == "map<string,double>":
        if isinstance(value, dict) and all(_number(v) for v in value.values()):
            return [(k, float(v)) for k, v in value.items()]
        raise ConversionError(f"{name}: {value!r} is not an object of numbers")
    if hive == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return json.dumps(value)
        raise ConversionError(f"{name}: {type(value).__name__} in a string column")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise ConversionError(f"{name}: {value!r} is not a double")


def deliver(
    s3: Any,
    bucket: str,
    kind: str,
    records: Iterable[bytes | str],
    now: datetime | None = None,
) -> Delivery:
    """Archive `records` of `kind` (transactions or labels) into `bucket` as Firehose does."""
    if kind not in COLUMNS:
        raise ValueError(f"kind is {TRANSACTIONS} or {LABELS}, not {kind!r}")
    raw = [r.encode() if isinstance(r, str) else r for r in records]

    def partition(data: bytes) -> str | None:
        day = partition_day(data)
        return None if day is None else f"dt={day}"

    return _deliver(s3, bucket, kind, masked(raw), partition, arrow_schema(kind), now)


def decision_partition(data: bytes) -> str | None:
    """`dt=…/hour=…` of a decision (its event time), or None where the JQ query fails."""
    day = partition_day(data)  # the record is a JSON object with a string event_time
    return None if day is None else decision_log.partition_key(json.loads(data)["event_time"])


def deliver_decisions(
    s3: Any, bucket: str, records: Iterable[bytes | str], now: datetime | None = None
) -> Delivery:
    """Decision v1 records into the decision log of `bucket`, as its Firehose does."""
    raw = [r.encode() if isinstance(r, str) else r for r in records]
    schema = decision_log.arrow_schema()
    return _deliver(s3, bucket, decision_log.DECISIONS, raw, decision_partition, schema, now)


def _deliver(
    s3: Any,
    bucket: str,
    kind: str,
    records: Sequence[bytes],
    partition: Callable[[bytes], str | None],
    schema: pa.Schema,
    now: datetime | None,
) -> Delivery:
    """Partition, convert and write `records` (already transformed) as Firehose does."""
    arrival = now or datetime.now(UTC)
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    failed: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for data in records:
        key = partition(data)
        if key is None:
            failed[PARTITIONING_FAILED].append(_error(data, "no event_time to partition by"))
            continue
        try:
            row = converted(data, kind)
        except ConversionError as error:
            failed[CONVERSION_FAILED].append(_error(data, str(error)))
            continue
        rows[key].append(row)  # a partition none of whose records converts gets no object
    delivery = Delivery(kind)
    suffix = f"{STREAM_NAME.format(kind=kind)}-1-{arrival:%Y-%m-%d-%H-%M-%S}-{uuid.uuid4()}"
    for path, path_rows in sorted(rows.items()):
        key = f"{kind}/{path}/{suffix}.parquet"
        table = pa.Table.from_pylist(path_rows, schema=schema)
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="snappy")
        s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
        delivery.partitions[path.removeprefix("dt=")] = len(path_rows)
        delivery.keys.append(key)
    for error_type, errors in sorted(failed.items()):
        key = f"errors/{kind}/{error_type}/dt={arrival:%Y-%m-%d}/{suffix}"
        body = "".join(json.dumps(e) + "\n" for e in errors).encode()
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        delivery.errors[error_type] = len(errors)
        delivery.keys.append(key)
    return delivery


def _error(data: bytes, message: str) -> dict[str, Any]:
    """Firehose's error record shape (the data is already masked)."""
    return {
        "attemptsMade": 1,
        "errorCode": "Local.ConversionFailed",
        "errorMessage": message,
        "rawData": base64.b64encode(data).decode(),
    }


def ensure_bucket(s3: Any, bucket: str) -> None:
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)


def demo_labels(data: Path) -> list[str]:
    """Label v1 records (chargebacks 1-30 days later, seeded) of a labelled data set."""
    labels = derive_labels(read_frame(data, None), seed=7)
    return to_jsonl(labels[list(LABEL_COLUMNS)]).splitlines()


def archive_demo(aws: LocalAws, data: Path, bucket: str = ARCHIVE_BUCKET) -> list[Delivery]:
    """What the demo's streams carried into the local archive: every record of the
    transactions and labels streams, plus the data set's labels."""
    s3 = aws.client("s3")
    ensure_bucket(s3, bucket)
    transactions = [r["Data"] for r in read_stream(aws, TRANSACTIONS)]
    labels = [r["Data"] for r in read_stream(aws, LABELS)] + demo_labels(data)
    return [deliver(s3, bucket, TRANSACTIONS, transactions), deliver(s3, bucket, LABELS, labels)]


def parquet_size(records: Sequence[bytes]) -> int:
    """Bytes of Decision v1 `records` as one Parquet object (Snappy), as Firehose writes a
    full buffer of them."""
    rows = [converted(data, decision_log.DECISIONS) for data in records]
    buffer = io.BytesIO()
    table = pa.Table.from_pylist(rows, schema=decision_log.arrow_schema())
    pq.write_table(table, buffer, compression="snappy")
    return len(buffer.getvalue())


def archive_decisions(aws: LocalAws, stream: str, bucket: str = ARCHIVE_BUCKET) -> Delivery:
    """Every record of the decisions stream into the local decision log."""
    s3 = aws.client("s3")
    ensure_bucket(s3, bucket)
    return deliver_decisions(s3, bucket, [r["Data"] for r in read_stream(aws, stream)])
