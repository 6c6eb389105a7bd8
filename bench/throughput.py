"""Throughput of the job at parallelism 1 over a file, against the JVM-only ceiling.

Both runs read the same JSON-lines file with the filesystem connector in streaming mode
(and an empty labels file), parse and validate it and compute every feature with the job's
own sources and views (flink_job.pipeline.register_job_features: the card and terminal
aggregates, the terminal risk from labels, late transactions counted). The ceiling stops
there (every feature into a blackhole, no Python); the full job adds scoring, the decision
and Alert v1 records (to blackhole sinks), built by the job's own build_statements with the
Kinesis tables swapped for file/blackhole ones.

Rates are steady-state rates: the events per second over the second half of a long run,
read from Flink's REST API while the job runs (see `steady_rate`). The first seconds of
every job are spent planning it, starting the mini-cluster and the Python worker and, for
ten seconds or more, compiling the job's generated code (the JIT compiler used more than
half a core in the first 15 s of a run here); a job that runs for days is past that.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pyflink.table import TableEnvironment

from flink_job import pipeline
from flink_job.config import JobConfig
from flink_job.features import FEATURE_NAMES
from flink_job.main import create_environment
from flink_job.parsing import ArrivalRules, rowtime_sql
from flink_job.sql import interval_sql
from flink_job.tables import (
    ALERT_COLUMNS,
    DEADLETTER_COLUMNS,
    DECISION_COLUMNS,
    arrival_rules,
    label_columns_sql,
)
from local.aws import free_port
from local.flink.rest import FlinkRest

SAMPLE_EVERY_S = 0.5
STEADY_FROM = 0.5  # the share of the events read after which a run is taken as steady

# The state backends, as Flink settings. Managed Service for Apache Flink always runs
# RocksDB with incremental checkpoints, every 60 s by default (infra/terraform's flink_app):
# the bench's default too (`make bench`'s --checkpoint-interval takes a shorter one, for
# more checkpoints per run; RocksDB then flushes its memtables more often).
BENCH_CHECKPOINT_INTERVAL = "60 s"
BACKENDS: dict[str, dict[str, str]] = {
    "heap": {"state.backend.type": "hashmap"},
    "rocksdb": {"state.backend.type": "rocksdb", "state.backend.incremental": "true"},
}
HOT_TERMINAL = "T-HOT"
HOT_CARD = "C-HOT"


@dataclass(frozen=True)
class ThroughputResult:
    events: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds


FILE_ARRIVAL_SQL = "CAST(CURRENT_TIMESTAMP AS TIMESTAMP_LTZ(3))"


def file_source_ddl(path: Path, lateness_ms: int, rules: ArrivalRules) -> str:
    return f"""
CREATE TABLE transactions_source (
  payload STRING,
  ingested_at AS {FILE_ARRIVAL_SQL},
  et AS {rowtime_sql(rules)},
  WATERMARK FOR et AS et - {interval_sql(lateness_ms)}
) WITH ('connector' = 'filesystem', 'path' = '{path.resolve()}', 'format' = 'raw')"""


def _blackhole(name: str, columns: str) -> str:
    return f"CREATE TABLE {name} ({columns}) WITH ('connector' = 'blackhole')"


def file_tables(config: JobConfig, data: Path) -> pipeline.JobTables:
    """The job's edges for a run over `data`: the file in (and an empty labels file),
    blackholes out."""
    no_labels = data.with_name(data.name + ".labels")
    no_labels.write_text("")
    rules = arrival_rules(config, FILE_ARRIVAL_SQL)
    label_columns = label_columns_sql(config.labels_delay_ms, streaming=True)
    return pipeline.JobTables(
        transactions_source=file_source_ddl(data, config.watermark_max_out_of_orderness_ms, rules),
        labels_source=f"CREATE TABLE labels_source ({label_columns}) WITH ("
        f"'connector' = 'filesystem', 'path' = '{no_labels.resolve()}', 'format' = 'raw')",
        alerts_sink=_blackhole("alerts_sink", ALERT_COLUMNS),
        deadletter_sink=_blackhole("deadletter_sink", DEADLETTER_COLUMNS),
        decisions_sink=_blackhole("decisions_sink", DECISION_COLUMNS),
        rules=rules,
    )


def run_ceiling(
    config: JobConfig, data: Path, events: int, flink: dict[str, str] | None = None
) -> ThroughputResult:
    """The job's sources and feature views (flink_job.pipeline.register_job_features), every
    feature into a blackhole; nothing crosses into Python."""
    t_env = create_environment(config, flink)
    view = pipeline.register_job_features(t_env, config, file_tables(config, data))
    t_env.execute_sql(_blackhole("features_sink", "transaction_id STRING, checksum DOUBLE"))
    # Every feature feeds the sink, so the planner cannot prune any of them away.
    checksum = " + ".join(f"CAST({name} AS DOUBLE)" for name in FEATURE_NAMES)
    insert = f"INSERT INTO features_sink SELECT transaction_id, {checksum} FROM {view}"
    return _timed(t_env, [insert], events)


def run_full_job(
    config: JobConfig, data: Path, events: int, flink: dict[str, str] | None = None
) -> ThroughputResult:
    """The job's own statements, with file in and blackholes out instead of Kinesis."""
    t_env = create_environment(config, flink)
    inserts = pipeline.build_statements(t_env, config, file_tables(config, data))
    return _timed(t_env, inserts, events)


def repeated_file(data: Path, copies: int, period_days: int) -> Path:
    """`data` followed by `copies - 1` copies of itself, each `period_days` later than the
    one before and with its own transaction ids: the same cards and terminals going on, in
    event-time order, so that a run lasts long enough for its rate to be measured."""
    out = data.with_name(f"{data.stem}.x{copies}{data.suffix}")
    if out.exists():
        return out
    lines = data.read_text().splitlines()
    with out.open("w") as sink:
        for copy in range(copies):
            shift = timedelta(days=copy * period_days)
            for line in lines:
                sink.write(_shifted(line, shift, copy) + "\n")
    return out


def _shifted(line: str, shift: timedelta, copy: int) -> str:
    if not shift:
        return line
    try:
        record = json.loads(line)
        at = datetime.fromisoformat(record["event_time"].replace("Z", "+00:00")) + shift
        record["event_time"] = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
        record["transaction_id"] = f"{record['transaction_id']}~{copy}"
    except (ValueError, KeyError, TypeError, AttributeError):
        return line  # a malformed record stays malformed
    return json.dumps(record)


def hot_key_file(data: Path, field: str, key: str, share: float) -> Path:
    """`data` with `share` of its transactions moved to one `field` value `key` (a
    payment gateway's terminal, a corporate card): chosen by a hash of the transaction id,
    so the same ones every time, spread evenly over the period."""
    out = data.with_name(f"{data.stem}.hot-{field}-{round(share * 100)}{data.suffix}")
    if out.exists():
        return out
    with data.open() as source, out.open("w") as sink:
        for line in source:
            sink.write(_moved(line.rstrip("\n"), field, key, share) + "\n")
    return out


def _moved(line: str, field: str, key: str, share: float) -> str:
    try:
        record = json.loads(line)
        digest = hashlib.sha256(str(record["transaction_id"]).encode()).digest()
    except (ValueError, KeyError, TypeError):
        return line
    if int.from_bytes(digest[:4], "big") < share * 2**32:
        record[field] = key
    return json.dumps(record)


Run = Callable[[Path, int, dict[str, str]], ThroughputResult]


@dataclass(frozen=True)
class CheckpointStats:
    """Completed checkpoints of one run, from the REST API's /jobs/:id/checkpoints."""

    completed: int
    max_duration_ms: float
    avg_duration_ms: float
    max_size_bytes: float  # what one checkpoint wrote (incremental: the new files only)
    latest_full_size_bytes: float  # the state it covers (checkpointed_size vs state_size)

    @staticmethod
    def from_rest(body: dict[str, Any]) -> CheckpointStats | None:
        counts, summary = body.get("counts", {}), body.get("summary", {})
        if not counts.get("completed"):
            return None
        duration = summary.get("end_to_end_duration", {})
        size = summary.get("checkpointed_size", summary.get("state_size", {}))
        latest = (body.get("latest") or {}).get("completed") or {}
        return CheckpointStats(
            completed=int(counts["completed"]),
            max_duration_ms=float(duration.get("max", 0)),
            avg_duration_ms=float(duration.get("avg", 0)),
            max_size_bytes=float(size.get("max", 0)),
            latest_full_size_bytes=float(latest.get("state_size", 0)),
        )


@dataclass(frozen=True)
class RunStats:
    events_per_second: float
    checkpoints: CheckpointStats | None


class SteadyRateError(RuntimeError):
    pass


def steady_rate(run: Run, data: Path, events: int) -> float:
    """Events per second once the job is steady: `run` over `data` (`events` lines) with its
    REST API on a free port, the source's records read sampled every SAMPLE_EVERY_S, and the
    rate taken between the sample that first passes STEADY_FROM of the events and the last
    sample before the end."""
    return steady_run(run, data, events).events_per_second


def steady_run(run: Run, data: Path, events: int) -> RunStats:
    """`steady_rate`, and the run's checkpoints as last seen while it ran."""
    port = free_port()
    samples: list[tuple[float, int]] = []
    checkpoints: list[CheckpointStats] = []
    done = threading.Event()
    sampler = threading.Thread(
        target=_sample,
        args=(FlinkRest(port), port, samples, checkpoints, done),
        name="bench-rate",
        daemon=True,
    )
    sampler.start()
    flink = {"rest.port": str(port), "metrics.fetcher.update-interval": "200"}
    try:
        run(data, events, flink)
    finally:
        done.set()
        sampler.join()
    rate = rate_once_steady(samples, events, data.name)
    return RunStats(rate, checkpoints[-1] if checkpoints else None)


def rate_once_steady(samples: list[tuple[float, int]], events: int, name: str) -> float:
    """Records per second between the first sample (time, records read) at or past
    STEADY_FROM of `events` and the last one before all were read."""
    steady = [(t, n) for t, n in samples if STEADY_FROM * events <= n < events]
    if len(steady) < 3:
        raise SteadyRateError(
            f"{name}: {len(steady)} samples in the steady part of the run (need 3): "
            "the run is too short, raise --copies"
        )
    (t0, n0), (t1, n1) = steady[0], steady[-1]
    return (n1 - n0) / (t1 - t0)


def _sample(
    rest: FlinkRest,
    port: int,
    samples: list[tuple[float, int]],
    checkpoints: list[CheckpointStats],
    done: threading.Event,
) -> None:
    """Runs on its own thread, which only speaks HTTP (the planning thread stays the only
    one using py4j, see flink_job.pipeline.execute_statements)."""
    while not done.wait(SAMPLE_EVERY_S):
        try:
            samples.append((time.monotonic(), rest.records_read("transactions_source")))
            stats = CheckpointStats.from_rest(_checkpoints(port))
        except (OSError, KeyError, IndexError, ValueError):
            continue  # not submitted yet, or finished
        if stats is not None:
            checkpoints.append(stats)


def _checkpoints(port: int) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    with urllib.request.urlopen(f"{base}/jobs/overview", timeout=5) as response:
        job = json.loads(response.read())["jobs"][0]["jid"]
    with urllib.request.urlopen(f"{base}/jobs/{job}/checkpoints", timeout=5) as response:
        body: dict[str, Any] = json.loads(response.read())
    return body


def count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


def _timed(t_env: TableEnvironment, inserts: list[str], events: int) -> ThroughputResult:
    began = time.perf_counter()
    pipeline.execute_statements(t_env, inserts).wait()
    return ThroughputResult(events=events, seconds=time.perf_counter() - began)
