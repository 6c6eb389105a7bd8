"""Follow a Kinesis stream in a background thread and keep what arrives, with read times."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

POLL_S = 0.02


@dataclass(frozen=True)
class Received:
    record: dict[str, Any]
    read_at: float  # epoch seconds when our GetRecords returned it


class StreamTail:
    """Reads every shard of a stream from TRIM_HORIZON until stopped."""

    def __init__(self, kinesis: Any, stream: str) -> None:
        self._kinesis = kinesis
        self._stream = stream
        self._received: list[Received] = []
        self.error: Exception | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"tail-{stream}", daemon=True)

    def start(self) -> StreamTail:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def count(self) -> int:
        with self._lock:
            return len(self._received)

    def _iterators(self) -> list[str]:
        shards = self._kinesis.list_shards(StreamName=self._stream)["Shards"]
        return [
            self._kinesis.get_shard_iterator(
                StreamName=self._stream, ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for s in shards
        ]

    def _run(self) -> None:
        try:
            self._follow()
        except Exception as exc:  # the server may go away first at shutdown
            if not self._stop.is_set():
                self.error = exc

    def _follow(self) -> None:
        iterators = self._iterators()
        while not self._stop.is_set():
            for index, iterator in enumerate(iterators):
                response = self._kinesis.get_records(ShardIterator=iterator, Limit=10_000)
                now = time.time()
                batch = [Received(json.loads(r["Data"]), now) for r in response["Records"]]
                with self._lock:
                    self._received.extend(batch)
                iterators[index] = response["NextShardIterator"]
            self._stop.wait(POLL_S)
