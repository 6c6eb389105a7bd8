"""The shadow budget in the job: the full job's throughput on RocksDB serving from a model
registry with two shadow models against the same registry with none, interleaved round by
round, and put-to-alert latency through the local Kinesis under the AWS job properties,
a fresh job per registry (the issue's budget: with two shadows the job keeps >= 90 % of its
throughput, and its put-to-alert p99 is within 10 % of the one without).

    python -m bench.run --only shadows-job [--repeat 3 --copies 12]

The shadows are the bench's model published again under two other versions (the same
ONNX graph: a challenger of the same family costs what the serving model costs). A shadow
over its time budget is skipped rather than scored, which would make the job look faster
than it is: the run's `shadow_scoring_skips` and `shadow_scoring_failures`, read from the
REST API until the job ends, are reported with the rates (both 0 in a fair run)."""

from __future__ import annotations

import dataclasses
import json
import statistics
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.throughput import Run, ThroughputResult
from contracts.model import MANIFEST_FILE, MODEL_FILE
from flink_job.config import JobConfig
from local.flink.rest import FlinkRest
from model_export.registry import Registry
from udfs.metrics import SCORED, SHADOW_FAILURES, SHADOW_SKIPS, rest_metric_id

SHADOWS = 2
WATCHED = (SCORED, SHADOW_SKIPS, SHADOW_FAILURES)


def publish_bench_registry(model_dir: Path, root: Path, shadows: int) -> Registry:
    """The bench's model as the current version of a registry at `root`, and again under
    `shadows` other versions as its shadows."""
    registry = Registry(str(root))
    manifest = json.loads((model_dir / MANIFEST_FILE).read_text())
    onnx_bytes = (model_dir / MODEL_FILE).read_bytes()
    current = registry.publish(json.dumps(manifest).encode(), onnx_bytes)
    registry.promote(current)
    for i in range(1, shadows + 1):
        shadow = {**manifest, "version": f"{manifest['version']}-shadow-{i}"}
        registry.publish(json.dumps(shadow).encode(), onnx_bytes)
        registry.add_shadow(shadow["version"], max_shadows=shadows)
    return registry


def throughput(
    config: JobConfig, data: Path, model_dir: Path, repeat: int, flink: dict[str, str], work: Path
) -> dict[str, Any]:
    """Full-job steady rates from a registry without and with SHADOWS shadows, `repeat`
    interleaved rounds, with the shadow metrics of each run."""
    from bench.throughput import count_lines, steady_rate

    events = count_lines(data)
    roots = {"without": work / "no-shadows", "with": work / "two-shadows"}
    publish_bench_registry(model_dir, roots["without"], 0)
    publish_bench_registry(model_dir, roots["with"], SHADOWS)
    rounds = []
    for _ in range(repeat):
        rates: dict[str, Any] = {}
        for name, root in roots.items():
            variant = dataclasses.replace(config, model_path=str(root), model_max_shadows=SHADOWS)
            metrics: dict[str, float] = {}
            rates[name] = steady_rate(_run(variant, flink, metrics), data, events)
            rates[f"{name}_metrics"] = metrics
        rounds.append({**rates, "ratio": rates["with"] / rates["without"]})
        print(
            f"shadows-job: without {rates['without']:,.0f}, with {SHADOWS} shadows "
            f"{rates['with']:,.0f} events/s; {rates['with_metrics']}",
            flush=True,
        )
    return {
        "shadows": SHADOWS,
        "shadow_budget_ms": config.model_shadow_budget_ms,
        "events": events,
        "rounds": rounds,
        "without_events_per_s": statistics.median(r["without"] for r in rounds),
        "with_events_per_s": statistics.median(r["with"] for r in rounds),
        "ratio": statistics.median(r["ratio"] for r in rounds),
        "shadow_skips": sum(r["with_metrics"].get(SHADOW_SKIPS, 0.0) for r in rounds),
        "shadow_failures": sum(r["with_metrics"].get(SHADOW_FAILURES, 0.0) for r in rounds),
    }


def latency(
    data: Path, model_dir: Path, work: Path, rate: float, seconds: float, repeat: int
) -> dict[str, Any]:
    """Put-to-alert latency at `rate` (bench.latency.measure_aws's settings) from a registry
    without and with SHADOWS shadows, `repeat` interleaved rounds of a fresh job each."""
    from bench.latency import AWS_BOUND_MS, AWS_FLINK, measure

    roots = {"without": work / "latency-no-shadows", "with": work / "latency-two-shadows"}
    publish_bench_registry(model_dir, roots["without"], 0)
    publish_bench_registry(model_dir, roots["with"], SHADOWS)
    rounds = []
    for _ in range(repeat):
        found: dict[str, Any] = {}
        for name, root in roots.items():
            (result,) = measure(
                data,
                str(root),
                (rate,),
                seconds,
                flink=AWS_FLINK,
                stamp_now=True,
                watermark_max_out_of_orderness_ms=AWS_BOUND_MS,
                model_max_shadows=SHADOWS,
            )
            found[name] = dataclasses.asdict(result)
        found["p99_ratio"] = found["with"]["p99_ms"] / found["without"]["p99_ms"]
        rounds.append(found)
        print(
            f"shadows-latency: p99 without {found['without']['p99_ms']:.0f} ms, with "
            f"{SHADOWS} shadows {found['with']['p99_ms']:.0f} ms",
            flush=True,
        )
    return {
        "rate": rate,
        "rounds": rounds,
        "without_p99_ms": statistics.median(r["without"]["p99_ms"] for r in rounds),
        "with_p99_ms": statistics.median(r["with"]["p99_ms"] for r in rounds),
        "p99_ratio": statistics.median(r["p99_ratio"] for r in rounds),
    }


def _run(config: JobConfig, flink: dict[str, str], metrics: dict[str, float]) -> Run:
    from bench.throughput import run_full_job

    def run(data: Path, events: int, rest: dict[str, str]) -> ThroughputResult:
        done = threading.Event()
        watcher = threading.Thread(
            target=_watch, args=(FlinkRest(int(rest["rest.port"])), metrics, done.is_set)
        )
        watcher.start()
        try:
            return run_full_job(config, data, events, {**flink, **rest})
        finally:
            done.set()
            watcher.join()

    return run


def _watch(rest: FlinkRest, metrics: dict[str, float], done: Callable[[], bool]) -> None:
    """The job's shadow metrics, read every second until the job ends (the last read
    before it ended stands: a finished job's metrics are gone)."""
    while not done():
        try:
            job = rest.running_job_ids()[0]
            metrics.update({n: rest.metric_total(job, rest_metric_id(n)) for n in WATCHED})
        except (OSError, KeyError, IndexError, ValueError):
            pass  # not submitted yet, or finished
        threading.Event().wait(1.0)
