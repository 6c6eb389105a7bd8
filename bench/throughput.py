"""Throughput of the job at parallelism 1 over a file, against the JVM-only ceiling.

Both runs read the same JSON-lines file with the filesystem connector in streaming mode,
parse and validate it and compute every feature with the job's own views
(flink_job.pipeline). The ceiling stops there (a blackhole sink, no Python); the full job
adds scoring, the decision and Alert v1 records (to blackhole sinks), built by the job's own
build_statements with the Kinesis tables swapped for file/blackhole ones.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from flink_job import pipeline
from flink_job.config import JobConfig
from flink_job.features import FEATURE_NAMES, interval_sql
from flink_job.main import create_environment
from flink_job.parsing import rowtime_sql
from flink_job.tables import ALERT_COLUMNS


@dataclass(frozen=True)
class ThroughputResult:
    events: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds


def file_source_ddl(path: Path, lateness_ms: int) -> str:
    return f"""
CREATE TABLE transactions_source (
  payload STRING,
  ingested_at AS CAST(CURRENT_TIMESTAMP AS TIMESTAMP_LTZ(3)),
  et AS {rowtime_sql()},
  WATERMARK FOR et AS et - {interval_sql(lateness_ms)}
) WITH ('connector' = 'filesystem', 'path' = '{path.resolve()}', 'format' = 'raw')"""


def _blackhole(name: str, columns: str) -> str:
    return f"CREATE TABLE {name} ({columns}) WITH ('connector' = 'blackhole')"


def run_ceiling(config: JobConfig, data: Path, events: int) -> ThroughputResult:
    """Parse, validate and all features in SQL; nothing crosses into Python."""
    t_env = create_environment(config)
    t_env.execute_sql(file_source_ddl(data, config.watermark_max_out_of_orderness_ms))
    view = pipeline.register_feature_views(t_env, "transactions_source")
    t_env.execute_sql(_blackhole("features_sink", "transaction_id STRING, checksum DOUBLE"))
    # Every feature feeds the sink, so the planner cannot prune any of them away.
    checksum = " + ".join(f"CAST({name} AS DOUBLE)" for name in FEATURE_NAMES)
    statements = t_env.create_statement_set()
    statements.add_insert_sql(
        f"INSERT INTO features_sink SELECT transaction_id, {checksum} FROM {view}"
    )
    return _timed(statements, events)


def run_full_job(config: JobConfig, data: Path, events: int) -> ThroughputResult:
    """The job's own statements, with file in and blackholes out instead of Kinesis."""
    t_env = create_environment(config)
    dead = "`schema` STRING, reason STRING, payload STRING, ingested_at STRING, detected_at STRING"
    with (
        mock.patch.object(
            pipeline,
            "transactions_source_ddl",
            lambda c: file_source_ddl(data, c.watermark_max_out_of_orderness_ms),
        ),
        mock.patch.object(
            pipeline, "alerts_sink_ddl", lambda c: _blackhole("alerts_sink", ALERT_COLUMNS)
        ),
        mock.patch.object(
            pipeline, "deadletter_sink_ddl", lambda c: _blackhole("deadletter_sink", dead)
        ),
    ):
        statements = pipeline.build_statements(t_env, config)
    return _timed(statements, events)


def _timed(statements: object, events: int) -> ThroughputResult:
    began = time.perf_counter()
    statements.execute().wait()  # type: ignore[attr-defined]
    return ThroughputResult(events=events, seconds=time.perf_counter() - began)
