"""Run the real job locally against a LocalAws: the one way the demo, the integration tests
and the benchmarks start, feed, watch and stop the pipeline."""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from flink_job.config import JobConfig, load_config
from local.aws import LocalAws, free_port
from local.flink_rest import FlinkRest
from local.replay import ReplayResult, replay
from local.stream_tail import StreamTail

PROBE = '{"demo_probe": "not a transaction: proves the pipeline is live"}'


def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}")


def wait_quiet(tail: StreamTail, quiet_s: float, timeout_s: float) -> None:
    """Return once nothing new arrived on `tail` for `quiet_s` seconds."""
    deadline = time.monotonic() + timeout_s
    last, since = tail.count(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if tail.count() != last:
            last, since = tail.count(), time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return


class RunningPipeline:
    """The job on the local mini-cluster, with tails on the alerts and dead-letter streams.

    On entry the job is started and proven live (a probe record reaches the dead-letter
    stream); on exit the job is cancelled and the tails stopped."""

    def __init__(self, aws: LocalAws, model_path: str, **overrides: Any) -> None:
        self.aws = aws
        self.config: JobConfig = dataclasses.replace(
            load_config(), aws_endpoint=aws.endpoint, model_path=model_path, **overrides
        )
        self.rest_port = free_port()
        self.kinesis = aws.client("kinesis")
        self.alerts = StreamTail(self.kinesis, self.config.alerts_stream)
        self.deadletters = StreamTail(self.kinesis, self.config.deadletter_stream)
        self._client: Any = None

    def __enter__(self) -> RunningPipeline:
        from flink_job.main import start

        self.alerts.start()
        self.deadletters.start()
        rest = {
            "rest.port": str(self.rest_port),
            "rest.address": "127.0.0.1",
            "rest.bind-address": "127.0.0.1",
        }
        self._client = start(self.config, rest).get_job_client()
        self.send([PROBE], rate=1, progress=False)
        wait_for(lambda: self.deadletters.count() >= 1, 180, "the job to start reading")
        return self

    def send(self, records: list[str], rate: float, progress: bool = True) -> ReplayResult:
        return replay(self.kinesis, self.config.transactions_stream, records, rate, progress)

    def scored(self) -> int:
        return self.metric("transactions_scored")

    def late(self) -> int:
        """Transactions later than the watermark bound (scored alone, flagged `late`)."""
        return self.metric("transactions_late")

    def metric(self, name: str) -> int:
        rest = FlinkRest(self.rest_port)
        return int(rest.metric_total(rest.running_job_ids()[0], name))

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
        try:
            if self._client is not None:
                self._client.cancel().result()
        except Exception as error:  # the job may already have failed or finished
            print(f"job: cancel reported {error.__class__.__name__}", file=sys.stderr)
        finally:
            self.alerts.stop()
            self.deadletters.stop()
