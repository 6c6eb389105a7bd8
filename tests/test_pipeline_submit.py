"""Why the local runner starts the job in a child process (local.flink.running.RunningPipeline).

py4j serves each Python call on the Java thread of whichever connection is free; a second
Python thread busy in the JVM at the same moment (a Kinesis tail whose garbage collection
frees py4j objects, say) makes py4j open a new connection, so a new Java thread. Flink 1.20's
planner keeps Calcite's metadata providers in a thread-local set on the thread that created
the TableEnvironment; planning on any other thread fails with
`NullPointerException: metadataHandlerProvider`. CI met exactly this once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from py4j.protocol import Py4JJavaError
from pyflink.java_gateway import get_gateway
from pyflink.table import EnvironmentSettings, TableEnvironment

from flink_job.main import parse_flink_settings
from flink_job.pipeline import execute_statements

INSERTS = [
    "INSERT INTO sink_a SELECT n FROM numbers WHERE n > 10",
    "INSERT INTO sink_b SELECT n * 2 FROM numbers",
]


def _environment() -> TableEnvironment:
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    t_env.get_config().set("parallelism.default", "1")
    values = ", ".join(f"({i})" for i in range(50))
    t_env.execute_sql(
        f"CREATE TEMPORARY VIEW numbers AS SELECT CAST(n AS BIGINT) AS n FROM (VALUES {values}) "
        "AS t(n) WHERE n >= 0"
    )
    for sink in ("sink_a", "sink_b"):
        t_env.execute_sql(f"CREATE TABLE {sink} (n BIGINT) WITH ('connector' = 'blackhole')")
    return t_env


@contextmanager
def java_thread_busy(seconds: float = 4.0) -> Iterator[None]:
    """Keep py4j's only free connection (and its Java thread) busy, so that the next call
    from this thread is served by a new connection on a new Java thread."""
    jvm = get_gateway().jvm
    worker = threading.Thread(target=lambda: jvm.java.lang.Thread.sleep(int(seconds * 1000)))
    worker.start()
    threading.Event().wait(0.5)  # let the worker take the connection
    try:
        yield
    finally:
        worker.join()


def test_statements_run_when_submitted_on_the_creating_thread() -> None:
    t_env = _environment()
    execute_statements(t_env, INSERTS).wait()


def test_planning_on_another_java_thread_fails_in_flink_1_20() -> None:
    """If a Flink upgrade fixes this, this test says so, and the runner may run in-process."""
    t_env = _environment()
    with java_thread_busy(), pytest.raises(Py4JJavaError, match="metadataHandlerProvider"):
        execute_statements(t_env, INSERTS)


def test_flink_settings_come_from_repeated_flink_options() -> None:
    argv = ["--flink", "rest.port=8089", "--flink", "rest.address=127.0.0.1", "--other"]
    assert parse_flink_settings(argv) == {"rest.port": "8089", "rest.address": "127.0.0.1"}


def test_a_flink_option_without_a_value_is_refused() -> None:
    with pytest.raises(SystemExit):
        parse_flink_settings(["--flink", "rest.port"])
