"""Replay a transactions file into Kinesis at a fixed rate, like a payment switch would.

    python -m local.replay sample_data/sample_transactions.jsonl --rate 500

Fields outside Transaction v1 (the simulator's `label`, `scenario`) are not sent.
The time of each put is kept, so that end-to-end latency can be measured against alerts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tqdm import tqdm

from contracts.transaction import TRANSACTION_V1

CONTRACT_FIELDS = frozenset(TRANSACTION_V1.names())
# A record as sent: text (JSON lines) or, for hostile input such as invalid UTF-8, bytes.
Record = str | bytes
R = TypeVar("R", bound=Record)
MAX_BATCH = 500  # PutRecords limit
TICK_S = 0.05


def read_records(path: Path) -> list[str]:
    """Raw lines of a JSON-lines file, contract fields only for JSON objects; other
    lines (malformed on purpose) are sent as they are."""
    records = []
    for line in path.read_text().splitlines():
        if line.strip():
            records.append(contract_only(line))
    return records


def contract_only(line: str) -> str:
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return line
    if not isinstance(value, dict):
        return line
    return json.dumps({k: v for k, v in value.items() if k in CONTRACT_FIELDS})


def _data(record: Record) -> bytes:
    return record if isinstance(record, bytes) else record.encode()


def partition_key(record: Record) -> str:
    try:
        value = json.loads(record)
        return str(value.get("card_id") or "unknown") if isinstance(value, dict) else "malformed"
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "malformed"


def transaction_id(record: Record) -> str | None:
    try:
        value = json.loads(record)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return (
        str(value["transaction_id"])
        if isinstance(value, dict) and "transaction_id" in value
        else None
    )


@dataclass
class ReplayResult:
    sent: int = 0
    failed: int = 0
    put_times: dict[str, float] = field(default_factory=dict)  # transaction_id -> epoch s
    seconds: float = 0.0


def paced(records: Sequence[R], rate: float, tick_s: float = TICK_S) -> Iterator[list[R]]:
    """`records` in PutRecords-sized batches, each tick's yielded `tick_s` after the last's
    so that about `rate` records a second go out."""
    per_tick = max(1, round(rate * tick_s))
    start = time.monotonic()
    for tick, offset in enumerate(range(0, len(records), per_tick)):
        delay = start + tick * tick_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        chunk = list(records[offset : offset + per_tick])
        for batch_start in range(0, len(chunk), MAX_BATCH):
            yield chunk[batch_start : batch_start + MAX_BATCH]


def replay(
    kinesis: Any, stream: str, records: Iterable[Record], rate: float, progress: bool = True
) -> ReplayResult:
    """Put every record at about `rate` records/s; retry throttled ones until accepted."""
    pending = list(records)
    result = ReplayResult()
    began = time.monotonic()
    with tqdm(total=len(pending), unit="tx", disable=not progress, desc="replay") as bar:
        for batch in paced(pending, rate):
            _put_all(kinesis, stream, batch, result)
            bar.update(len(batch))
    result.seconds = time.monotonic() - began
    return result


def _put_all(kinesis: Any, stream: str, batch: list[Record], result: ReplayResult) -> None:
    for _attempt in range(10):
        now = time.time()
        response = kinesis.put_records(
            StreamName=stream,
            Records=[{"Data": _data(r), "PartitionKey": partition_key(r)} for r in batch],
        )
        retry = []
        for record, entry in zip(batch, response["Records"], strict=True):
            if "ErrorCode" in entry:
                retry.append(record)
                continue
            result.sent += 1
            tx = transaction_id(record)
            if tx is not None:
                result.put_times.setdefault(tx, now)
        if not retry:
            return
        batch = retry
        time.sleep(0.1)
    result.failed += len(batch)
