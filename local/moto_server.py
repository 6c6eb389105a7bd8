"""`python -m local.moto_server -H HOST -p PORT`: moto's server, with one fix for scale.

moto's Kinesis shard answers GetRecords by walking every record it ever stored, from the
first, on every call; a consumer polling every 50 ms then costs the server time in
proportion to the stream's length, which is not how Kinesis behaves and slowed the local
pipeline down as a run went on (latency grew with the number of records already sent).
Here a shard keeps its sequence numbers in a sorted list and answers from the position
after the iterator's, by bisection. Requests, responses and errors stay moto's.
"""

from __future__ import annotations

import bisect
import itertools
from typing import Any

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


def get_records(shard: Any, last_sequence_id: str, limit: int | None) -> tuple[list[Any], int, int]:
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


setattr(Shard, "get_records", get_records)  # noqa: B010 (a method replaced on purpose)

if __name__ == "__main__":
    main()
