"""End-to-end latency through the local Kinesis (moto on loopback, the real connector):
from the producer's PutRecords to the alert being readable, at fixed offered rates."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from local.aws import LocalAws
from local.flink.running import RunningPipeline, wait_for, wait_quiet
from local.traffic.latency import latencies_ms, latency_samples
from local.traffic.replay import ReplayResult, paced, read_records

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


# What runs on Managed Flink: RocksDB with incremental checkpoints (here every 10 s, so
# that a 20 s measurement sees two), the Terraform default out-of-order bound, and event
# time stamped by the producer when it sends.
AWS_BOUND_MS = 300_000
AWS_FLINK = {
    "state.backend.type": "rocksdb",
    "state.backend.incremental": "true",
    "execution.checkpointing.interval": "10 s",
}
SEND_TICK_S = 0.02


def _stamped(record: str, at: float) -> str:
    value = json.loads(record)
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at))
    value["event_time"] = f"{whole}.{int(at * 1000) % 1000:03d}Z"
    return json.dumps(value)


def send_stamped_now(pipeline: RunningPipeline, records: list[str], rate: float) -> ReplayResult:
    """Put `records` at `rate`/s, each with event_time = the wall clock when it is sent."""
    total = ReplayResult()
    began = time.monotonic()
    for batch in paced(records, rate, SEND_TICK_S):
        now = time.time()
        chunk = [_stamped(r, now) for r in batch]
        part = pipeline.send(chunk, rate=1e9, progress=False)
        total.sent += part.sent
        total.failed += part.failed
        total.put_times.update(part.put_times)
    total.seconds = time.monotonic() - began
    return total


@dataclass(frozen=True)
class AwsLatencyResult:
    bound_ms: int  # the out-of-order bound the job ran with
    result: LatencyResult


def measure_aws(
    data: Path, model_path: str, rate: float, seconds: float, bounds: tuple[int, ...]
) -> list[AwsLatencyResult]:
    """Put-to-alert latency under the AWS job properties (AWS_FLINK; AWS_BOUND_MS and the
    other `bounds`), with event time = the wall clock at send; a fresh job per bound."""
    results = []
    for bound in bounds:
        (r,) = measure(
            data,
            model_path,
            (rate,),
            seconds,
            flink=AWS_FLINK,
            stamp_now=True,
            watermark_max_out_of_orderness_ms=bound,
        )
        results.append(AwsLatencyResult(bound, r))
        print(f"aws-latency: bound {bound:,} ms: {r}", flush=True)
    return results


def measure(
    data: Path,
    model_path: str,
    rates: tuple[float, ...],
    seconds: float,
    flink: dict[str, str] | None = None,
    stamp_now: bool = False,
    **overrides: Any,
) -> list[LatencyResult]:
    """`flink` adds Flink settings, `overrides` replace fields of the job's config
    (bench.options); `stamp_now` sends with event time = the wall clock."""
    records = read_records(data)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-checkpoints-") as checkpoints:
        flink = {"state.checkpoints.dir": Path(checkpoints).as_uri(), **(flink or {})}
        with (
            LocalAws() as aws,
            RunningPipeline(aws, model_path, flink=flink, **overrides) as pipeline,
        ):
            results = _measure(pipeline, records, rates, seconds, stamp_now)
    return results


def _measure(
    pipeline: RunningPipeline,
    records: list[str],
    rates: tuple[float, ...],
    seconds: float,
    stamp_now: bool,
) -> list[LatencyResult]:
    def send(batch: list[str], rate: float) -> ReplayResult:
        if stamp_now:
            return send_stamped_now(pipeline, batch, rate)
        return pipeline.send(batch, rate, progress=False)

    results = []
    # Warm-up, not measured: the first seconds of a fresh job pay for JIT compilation,
    # the Python worker's first bundles and the first model calls (alerts up to 0.8 s
    # in the first 3 s here, none above 0.4 s after).
    offset = int(rates[0] * WARMUP_S)
    warmup = _retimed(records, offset)
    send(warmup, rates[0])
    wait_quiet(pipeline.alerts, quiet_s=2.0, timeout_s=30)
    for rate in rates:
        count = int(rate * seconds)
        batch = _retimed(records, offset + count)[offset:]
        offset += count
        before_scored = pipeline.scored()
        before_alerts = pipeline.alerts.count()
        sent = send(batch, rate)
        kept_up = _caught_up(pipeline, before_scored + len(batch), timeout_s=10)
        wait_quiet(pipeline.alerts, quiet_s=2.0, timeout_s=30)
        alerts = pipeline.alerts.received[before_alerts:]
        latencies = latencies_ms(latency_samples(alerts, sent.put_times))
        p50, p95, p99 = np.percentile(latencies, [50, 95, 99]) if latencies else (float("nan"),) * 3
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
