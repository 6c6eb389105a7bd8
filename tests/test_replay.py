"""The replay's pacing, which the demo, the tests and the bench's latency sender share."""

from __future__ import annotations

import time

from local.replay import MAX_BATCH, paced


def test_paced_yields_each_tick_in_putrecords_sized_batches() -> None:
    records = [f"r{i}" for i in range(1_200)]
    batches = list(paced(records, rate=1e9))
    assert [len(b) for b in batches] == [MAX_BATCH, MAX_BATCH, 200]
    assert [r for b in batches for r in b] == records


def test_paced_spreads_the_records_over_ticks_at_the_rate() -> None:
    began = time.monotonic()
    batches = list(paced([b"x"] * 10, rate=200, tick_s=0.02))  # 4 a tick
    assert [len(b) for b in batches] == [4, 4, 2]
    assert time.monotonic() - began >= 0.04  # the third tick waits two ticks
