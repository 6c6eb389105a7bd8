"""Put-to-alert latency of a replay: from the producer's PutRecords (local.traffic.replay
keeps each transaction's put time) to our reader getting the alert from Kinesis
(local.traffic.stream_tail), with the job's cold start apart from its steady state.

A fresh job's first seconds pay for class loading, JIT compilation and the Python worker's
first bundles and model calls; a latency over the whole replay mixes that one-off cost into
the figure a running job has. `split_cold_start` measures both, separately.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from local.traffic.stream_tail import Received

# (put at, alert read at), epoch seconds, of one alerted transaction
Sample = tuple[float, float]

# How long after the replay's first put a transaction counts as the cold start: the first
# seconds of a fresh local job (bench.latency warms up for longer before measuring).
COLD_START_S = 3.0


def latency_samples(alerts: Iterable[Received], put_times: Mapping[str, float]) -> list[Sample]:
    """(put, read) of every alert whose transaction the replay put."""
    return [
        (put_times[a.record["transaction_id"]], a.read_at)
        for a in alerts
        if a.record["transaction_id"] in put_times
    ]


def latencies_ms(samples: Iterable[Sample]) -> list[float]:
    return [(read - put) * 1000 for put, read in samples]


@dataclass(frozen=True)
class Percentiles:
    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, latencies: Sequence[float]) -> Percentiles:
        """NaN figures when there is no latency at all."""
        if not latencies:
            return cls(0, math.nan, math.nan, math.nan)
        p50, p99 = np.percentile(latencies, [50, 99])
        return cls(len(latencies), float(p50), float(p99), float(max(latencies)))


@dataclass(frozen=True)
class LatencySplit:
    cold_s: float  # the cold start: transactions put within this long of the first put
    cold: Percentiles
    steady: Percentiles  # the rest: what a running job's latency is
    first_alert_s: float  # from the replay's first put to the first alert read
    first_alert_latency_ms: float  # the first alerted transaction's own latency


def split_cold_start(
    samples: Sequence[Sample], started_at: float, cold_s: float = COLD_START_S
) -> LatencySplit:
    """Cold start and steady state of `samples`, split by put time: those put before
    `started_at` + `cold_s` (the replay's first put plus the window) are the cold start."""
    cold = [s for s in samples if s[0] < started_at + cold_s]
    steady = [s for s in samples if s[0] >= started_at + cold_s]
    first_read = min((read for _, read in samples), default=math.nan)
    first_put, first_put_read = min(samples, default=(math.nan, math.nan))
    return LatencySplit(
        cold_s=cold_s,
        cold=Percentiles.of(latencies_ms(cold)),
        steady=Percentiles.of(latencies_ms(steady)),
        first_alert_s=first_read - started_at,
        first_alert_latency_ms=(first_put_read - first_put) * 1000,
    )
