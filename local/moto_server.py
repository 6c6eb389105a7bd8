"""`python -m local.moto_server -H HOST -p PORT`: moto's server, with fixes for scale.

moto's Kinesis shard does work in proportion to the stream's length on every call: it
answers GetRecords by walking every record it ever stored, from the first, and finds the
last sequence number for each record put by copying all of them into a list. That is not
how Kinesis behaves, and it slowed the local pipeline down as a run went on (latency grew
with the number of records already sent; at 45,000 records stored the producer managed
630 of 1,000 records/s). Here a shard answers GetRecords from the position after the
iterator's by bisection over its sorted sequence numbers, and its first and last sequence
numbers in constant time. moto's put is not safe for concurrency (its own comment): two
PutRecords at once, as the job's Kinesis sinks send them, could take one sequence number
and one record would overwrite the other, or be inserted out of order and skipped by a
reader; here puts and reads of a shard take one lock. The server also lists moto's service
folders once instead of on every request, and does not log every request. Requests,
responses and errors stay moto's.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import logging
import threading
from collections.abc import Callable
from typing import Any

from moto import backends
from moto.kinesis.models import Shard
from moto.server import main


def _sequence_numbers(shard: Any) -> list[int]:
    """The shard's sequence numbers in order; records are only ever appended."""
    known: list[int] = shard.__dict__.setdefault("_sorted_sequence_numbers", [])
    missing = len(shard.records) - len(known)
    if missing > 0:
        known.extend(reversed(list(itertools.islice(reversed(shard.records), missing))))
    elif missing < 0:  # records were removed: start again
        known[:] = list(shard.records)
    return known


_SHARDS_LOCK = threading.Lock()
_moto_put_record: Callable[..., str] = Shard.put_record


def put_record(shard: Any, partition_key: str, data: str, explicit_hash_key: str) -> str:
    with _SHARDS_LOCK:
        return _moto_put_record(shard, partition_key, data, explicit_hash_key)


def get_records(shard: Any, last_sequence_id: str, limit: int | None) -> tuple[list[Any], int, int]:
    with _SHARDS_LOCK:
        return _get_records(shard, last_sequence_id, limit)


def _get_records(
    shard: Any, last_sequence_id: str, limit: int | None
) -> tuple[list[Any], int, int]:
    numbers = _sequence_numbers(shard)
    start = bisect.bisect_right(numbers, int(last_sequence_id))
    stop = len(numbers) if limit is None else min(len(numbers), start + limit)
    chosen = numbers[start:stop]
    if not chosen:
        return [], int(last_sequence_id), 0
    records = [shard.records[n] for n in chosen]
    latest = shard.records[numbers[-1]]
    behind_ms = int((latest.created_at - records[-1].created_at) * 1000)
    return records, chosen[-1], behind_ms


def get_min_sequence_number(shard: Any) -> int:
    return next(iter(shard.records), 0)  # records are kept in insertion (sequence) order


def get_max_sequence_number(shard: Any) -> int:
    return next(reversed(shard.records), 0)


# moto lists its own package folders on every request; they do not change while it runs
_list_of_moto_modules = backends.list_of_moto_modules
moto_modules = functools.cache(lambda: tuple(_list_of_moto_modules()))

# methods and a function replaced on purpose
setattr(Shard, "put_record", put_record)  # noqa: B010
setattr(Shard, "get_records", get_records)  # noqa: B010
setattr(Shard, "get_min_sequence_number", get_min_sequence_number)  # noqa: B010
setattr(Shard, "get_max_sequence_number", get_max_sequence_number)  # noqa: B010
setattr(backends, "list_of_moto_modules", moto_modules)  # noqa: B010

if __name__ == "__main__":
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request
    main()
