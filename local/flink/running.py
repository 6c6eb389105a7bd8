"""Run the real job locally against a LocalAws: the one way the demo, the integration tests
and the benchmarks start, feed, watch and stop the pipeline."""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from flink_job.config import PROPERTIES_ENV, JobConfig, load_config, write_properties
from local.aws import LocalAws, aws_env, free_port, read_stream
from local.flink.rest import FlinkRest
from local.traffic.replay import Record, ReplayResult, replay
from local.traffic.stream_tail import StreamTail
from udfs.metrics import LATE, SCORED, rest_metric_id

PROBE = '{"demo_probe": "not a transaction: proves the pipeline is live"}'
PROBE_EVERY_S = 5.0


# What PyFlink puts in its own process's environment when it runs Python UDF workers in
# loopback mode (in-process, as local jobs do); a child that inherits PYFLINK_GATEWAY_DISABLED
# believes it is a UDF worker and refuses to start a JVM.
PYFLINK_WORKER_VARIABLES = frozenset(
    {
        "PYFLINK_GATEWAY_DISABLED",
        "PYFLINK_GATEWAY_PORT",
        "_PYFLINK_CONN_INFO_PATH",
        "PYTHON_LOOPBACK_SERVER_ADDRESS",
        "_PYTHON_WORKER_MEMORY_LIMIT",
        "BOOT_LOG_DIR",
        "WORKER_ID",
        "PIPELINE_OPTIONS",
        "SEMI_PERSISTENT_DIRECTORY",
        "LOGGING_API_SERVICE_DESCRIPTOR",
        "CONTROL_API_SERVICE_DESCRIPTOR",
        "python",
    }
)


def child_environment() -> dict[str, str]:
    """This process's environment without what PyFlink's in-process UDF workers set."""
    return {k: v for k, v in os.environ.items() if k not in PYFLINK_WORKER_VARIABLES}


def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}")


def wait_quiet(tail: StreamTail, quiet_s: float, timeout_s: float) -> None:
    """Return once nothing new arrived on `tail` for `quiet_s` seconds; TimeoutError when
    records still arrive after `timeout_s` (a stream that never settles is a failure)."""
    deadline = time.monotonic() + timeout_s
    last, since = tail.count(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if tail.count() != last:
            last, since = tail.count(), time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
    raise TimeoutError(f"records still arriving after {timeout_s:.0f}s (no {quiet_s:.0f}s quiet)")


def latest_checkpoint(directory: Path) -> str | None:
    """The newest complete checkpoint under a `state.checkpoints.dir` (one folder per job,
    `chk-N` with a `_metadata` file once complete), as a path to restore from."""
    complete = [(int(m.parent.name[4:]), m.parent) for m in directory.glob("*/chk-*/_metadata")]
    return str(max(complete)[1]) if complete else None


BIND_FAILED = "Address already in use"


class PortTakenError(RuntimeError):
    """The REST port picked for a child job was taken before the job could bind it."""


class RunningPipeline:
    """The job (`python -m flink_job.main`, as on Managed Flink) in a child process on a local
    mini-cluster, with tails on the alerts and dead-letter streams.

    On entry the job is started and proven live (a probe record reaches the dead-letter
    stream); on exit the job is cancelled, the child stopped and the tails stopped.

    A child process, not this one: Flink 1.20 plans a job only on the Java thread that
    created its TableEnvironment, and py4j moves a process's calls to another Java thread as
    soon as two Python threads use the JVM at once (tests/test_pipeline_submit.py). The
    child's only Python thread is the job's."""

    def __init__(
        self,
        aws: LocalAws,
        model_path: str,
        flink: dict[str, str] | None = None,
        **overrides: Any,
    ) -> None:
        """`overrides` replace fields of the job's config; `flink` adds Flink settings."""
        self.aws = aws
        self.flink_settings = dict(flink or {})
        self.config: JobConfig = dataclasses.replace(
            load_config(), aws_endpoint=aws.endpoint, model_path=model_path, **overrides
        )
        self.rest_port = free_port()
        self.rest = FlinkRest(self.rest_port)
        self.kinesis = aws.client("kinesis")
        self.alerts = StreamTail(self.kinesis, self.config.alerts_stream)
        self.deadletters = StreamTail(self.kinesis, self.config.deadletter_stream)
        self._workdir = tempfile.TemporaryDirectory(prefix="fraud-job-")
        self.log_path = Path(self._workdir.name) / "job.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._next_probe_at: float | None = None  # no probe put yet

    def __enter__(self) -> RunningPipeline:
        self.alerts.start()
        self.deadletters.start()
        try:
            self._start_job()
            self._wait_for(self._probe_came_back, "the job to start reading")
        except BaseException:
            self._stop()
            raise
        return self

    def _probe_came_back(self) -> bool:
        """Puts the probe and says whether the job dead-lettered it. A job starting at
        TRIM_HORIZON reads the one probe whenever its reader starts; one starting at LATEST
        (as deployed) reads only what is put after that, so there the probe is put again
        every PROBE_EVERY_S until one comes back."""
        if self.deadletters.count() >= 1:
            return True
        now = time.monotonic()
        if self._next_probe_at is None or (
            self.config.source_initial_position == "LATEST" and now >= self._next_probe_at
        ):
            self.send([PROBE], rate=1, progress=False)
            self._next_probe_at = now + PROBE_EVERY_S
        return False

    def _start_job(self, attempts: int = 3) -> None:
        """Start the child on a free REST port; again on another one if something else took
        that port between `free_port` and the REST server's bind (a race no port picked in
        advance avoids: the child's own JVM binds ports of its own while it starts)."""
        for attempt in range(1, attempts + 1):
            try:
                self._launch()
                return
            except PortTakenError as error:
                self._stop_process()
                if attempt == attempts:
                    raise RuntimeError(f"the job's REST port was taken {attempts} times") from error
                print(f"job: {error}; starting again on another port", file=sys.stderr)
                self.rest_port = free_port()
                self.rest = FlinkRest(self.rest_port)

    def _rest_answers(self) -> bool:
        try:
            return bool(self.rest.reachable() and self.job_ids())
        except http.client.HTTPException as error:
            raise PortTakenError(
                f"port {self.rest_port} answers, but not as Flink's REST API"
            ) from error

    def _launch(self) -> None:
        properties = Path(self._workdir.name) / "application_properties.json"
        write_properties(self.config, properties)
        rest = {
            "rest.port": str(self.rest_port),
            "rest.address": "127.0.0.1",
            "rest.bind-address": "127.0.0.1",
            # the REST API serves metrics from a store refreshed this often (default 10 s)
            "metrics.fetcher.update-interval": "500",
            **self.flink_settings,
        }
        command = [sys.executable, "-m", "flink_job.main"]
        for key, value in rest.items():
            command += ["--flink", f"{key}={value}"]
        env = {**child_environment(), **aws_env(self.aws.endpoint), PROPERTIES_ENV: str(properties)}
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            self._wait_for(self._rest_answers, "the job to run")
        except RuntimeError as error:
            if BIND_FAILED in self.log_tail(200):
                raise PortTakenError(f"port {self.rest_port} was in use") from error
            raise

    def _wait_for(self, predicate: Callable[[], bool], what: str) -> None:
        def ready() -> bool:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(
                    f"the job exited with code {self._process.returncode} before {what}; "
                    f"its log ends with:\n{self.log_tail()}"
                )
            return predicate()

        wait_for(ready, 180, what)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def process_ids(self) -> list[int]:
        """The child and everything it started (JVM, Python UDF workers)."""
        if self._process is None:
            return []
        group, found = self._process.pid, []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                # fields after the ")" that ends the command name: state, ppid, pgrp, ...
                if int(stat.read_text().rsplit(")", 1)[1].split()[2]) == group:
                    found.append(int(stat.parent.name))
        return found

    def job_ids(self) -> list[str]:
        try:
            return self.rest.running_job_ids()
        except OSError:
            return []

    def send(self, records: Sequence[Record], rate: float, progress: bool = True) -> ReplayResult:
        return replay(self.kinesis, self.config.transactions_stream, records, rate, progress)

    def scored(self) -> int:
        return self.metric(SCORED)

    def late(self) -> int:
        """Transactions later than the watermark bound (scored alone, flagged `late`)."""
        return self.metric(LATE)

    def metric(self, name: str) -> int:
        """One of the job's custom metrics (udfs.metrics), summed over operators and subtasks."""
        job = self.rest.running_job_ids()[0]
        return int(self.rest.metric_total(job, rest_metric_id(name)))

    def kill(self) -> None:
        """SIGKILL the job's processes (the JVM with its mini-cluster, the Python workers), as
        a crash of the machine would: nothing is cancelled, flushed or cleaned up."""
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait(timeout=30)

    def decision_records(self) -> list[dict[str, Any]]:
        """Every Decision v1 record on the decisions stream so far (read whole each time:
        the decision log is read once a run is over, so it needs no tail of its own)."""
        return [json.loads(r["Data"]) for r in read_stream(self.aws, self.config.decisions_stream)]

    def deadletter_records(self) -> list[dict[str, Any]]:
        """Dead letters without the liveness probe."""
        return [
            r.record for r in self.deadletters.received if "demo_probe" not in r.record["payload"]
        ]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        try:
            for job_id in self.job_ids():
                self.rest.cancel(job_id)
        except OSError as error:  # the job may already have failed or finished
            print(f"job: cancel reported {error.__class__.__name__}", file=sys.stderr)
        finally:
            self._stop_process()
            self.alerts.stop()
            self.deadletters.stop()
            self._workdir.cleanup()

    def _stop_process(self) -> None:
        """The child and everything it started (the JVM, the Python UDF workers)."""
        if self._process is None or self._process.poll() is not None:
            return
        for sig, grace_s in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, sig)
            try:
                self._process.wait(timeout=grace_s)
                return
            except subprocess.TimeoutExpired:
                continue
