"""What each tuning option is worth: the full job's throughput over a file and the latency
through the local Kinesis, each option against the configuration as shipped, in one run.

Throughput is the steady-state rate (bench.throughput.steady_rate); latency is the p50/p99
from put to readable alert at a fixed offered rate (bench.latency).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flink_job.config import JobConfig

if TYPE_CHECKING:
    from bench.throughput import Run

# (name, JobConfig fields, Flink settings)
THROUGHPUT_OPTIONS: tuple[tuple[str, dict[str, Any], dict[str, str]], ...] = (
    ("as shipped (process mode, Arrow batch 10,000, object reuse, chaining)", {}, {}),
    ("Arrow batch and bundle 1,000", {"scoring_batch_size": 1_000}, {}),
    ("Arrow batch and bundle 100", {"scoring_batch_size": 100}, {}),
    ("object reuse off", {}, {"pipeline.object-reuse": "false"}),
    ("operator chaining off", {}, {"pipeline.operator-chaining.enabled": "false"}),
    ("Python thread mode", {}, {"python.execution-mode": "thread"}),
)

# (name, JobConfig fields, Flink settings)
LATENCY_OPTIONS: tuple[tuple[str, dict[str, Any], dict[str, str]], ...] = (
    (
        "as shipped (poll 20 ms, watermarks 20 ms, bundle 20 ms, network buffers 10 ms, "
        "sink buffer 10 ms)",
        {},
        {},
    ),
    ("source poll 200 ms (Kinesis' limit on AWS)", {"source_poll_interval_ms": 200}, {}),
    (
        "watermarks every 200 ms (Flink's default)",
        {},
        {"pipeline.auto-watermark-interval": "200 ms"},
    ),
    ("network buffers 100 ms (Flink's default)", {}, {"execution.buffer-timeout": "100 ms"}),
    ("sink buffer 50 ms", {"sink_max_buffer_ms": 50}, {}),
    ("Python bundle time 1,000 ms", {"scoring_bundle_time_ms": 1000}, {}),
    (
        "the previous run's (poll 50 ms, watermarks 50 ms, sink buffer 50 ms)",
        {"source_poll_interval_ms": 50, "sink_max_buffer_ms": 50},
        {"pipeline.auto-watermark-interval": "50 ms"},
    ),
)


@dataclass(frozen=True)
class OptionResult:
    option: str
    events_per_second: float | None  # steady-state rate; None when it failed
    vs_shipped: float | None
    error: str | None = None


def root_cause(error: Exception) -> str:
    """The innermost 'Caused by:' of a Java exception, else the first line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    causes = [line.removeprefix("Caused by: ") for line in lines if line.startswith("Caused by:")]
    return (causes[-1] if causes else lines[0] if lines else repr(error))[:300]


def _full_job(config: JobConfig, flink: dict[str, str]) -> Run:
    from bench.throughput import run_full_job

    return lambda path, events, rest: run_full_job(config, path, events, {**flink, **rest})


def throughput_options(config: JobConfig, data: Path) -> list[OptionResult]:
    from bench.throughput import count_lines, steady_rate

    events = count_lines(data)

    results: list[OptionResult] = []
    shipped: float | None = None
    for name, fields, flink in THROUGHPUT_OPTIONS:
        variant = dataclasses.replace(config, **fields)
        try:
            rate = steady_rate(_full_job(variant, flink), data, events)
        except Exception as error:  # an option Flink refuses is a result too
            results.append(OptionResult(name, None, None, root_cause(error)))
            continue
        shipped = shipped or rate
        results.append(OptionResult(name, rate, rate / shipped))
        print(f"options: {name}: {rate:,.0f} events/s", flush=True)
    return results


@dataclass(frozen=True)
class LatencyOptionResult:
    option: str
    offered_rate: float
    p50_ms: float
    p99_ms: float
    kept_up: bool


def latency_options(
    data: Path, model_path: str, rate: float, seconds: float
) -> list[LatencyOptionResult]:
    from bench.latency import measure

    results = []
    for name, fields, flink in LATENCY_OPTIONS:
        (r,) = measure(data, model_path, (rate,), seconds, flink=flink, **fields)
        results.append(LatencyOptionResult(name, rate, r.p50_ms, r.p99_ms, r.kept_up))
        print(f"options: {name}: p50 {r.p50_ms:,.0f} ms, p99 {r.p99_ms:,.0f} ms", flush=True)
    return results
