"""End-to-end latency through the local Kinesis (moto on loopback, the real connector):
from the producer's PutRecords to the alert being readable, at fixed offered rates."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from local.aws import LocalAws
from local.replay import read_records
from local.running import RunningPipeline, wait_for, wait_quiet

WARMUP_S = 15.0


@dataclass(frozen=True)
class LatencyResult:
    offered_rate: float
    achieved_rate: float
    events: int
    alerts: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    kept_up: bool  # every event scored within 10 s of the last put


def _retimed(records: list[str], count: int) -> list[str]:
    """The first `count` valid transactions in event-time order."""
    valid = [r for r in records if r.startswith("{")]
    valid.sort(key=lambda r: json.loads(r)["event_time"])
    return valid[:count]


def _caught_up(pipeline: RunningPipeline, expected: int, timeout_s: float) -> bool:
    try:
        wait_for(lambda: pipeline.scored() >= expected, timeout_s, "scoring")
    except TimeoutError:
        return False
    return True


def measure(
    data: Path,
    model_path: str,
    rates: tuple[float, ...],
    seconds: float,
    flink: dict[str, str] | None = None,
    **overrides: Any,
) -> list[LatencyResult]:
    """`flink` adds Flink settings, `overrides` replace fields of the job's config
    (bench.options)."""
    records = read_records(data)
    results = []
    with (
        LocalAws() as aws,
        RunningPipeline(aws, model_path, flink=flink, **overrides) as pipeline,
    ):
        # Warm-up, not measured: the first seconds of a fresh job pay for JIT compilation,
        # the Python worker's first bundles and the first model calls (alerts up to 0.8 s
        # in the first 3 s here, none above 0.4 s after).
        offset = int(rates[0] * WARMUP_S)
        warmup = _retimed(records, offset)
        pipeline.send(warmup, rates[0], progress=False)
        wait_quiet(pipeline.alerts, quiet_s=2.0, timeout_s=30)
        for rate in rates:
            count = int(rate * seconds)
            batch = _retimed(records, offset + count)[offset:]
            offset += count
            before_scored = pipeline.scored()
            before_alerts = pipeline.alerts.count()
            sent = pipeline.send(batch, rate, progress=False)
            kept_up = _caught_up(pipeline, before_scored + len(batch), timeout_s=10)
            wait_quiet(pipeline.alerts, quiet_s=2.0, timeout_s=30)
            alerts = pipeline.alerts.received[before_alerts:]
            latencies = [
                (a.read_at - sent.put_times[a.record["transaction_id"]]) * 1000
                for a in alerts
                if a.record["transaction_id"] in sent.put_times
            ]
            p50, p95, p99 = (
                np.percentile(latencies, [50, 95, 99]) if latencies else (float("nan"),) * 3
            )
            results.append(
                LatencyResult(
                    offered_rate=rate,
                    achieved_rate=sent.sent / max(sent.seconds, 1e-9),
                    events=len(batch),
                    alerts=len(latencies),
                    p50_ms=float(p50),
                    p95_ms=float(p95),
                    p99_ms=float(p99),
                    kept_up=kept_up,
                )
            )
            time.sleep(1.0)
    return results
