"""Local AWS: a moto server on a loopback port, with the project's streams and buckets.

One way to get AWS locally, used by the demo, the tests and the benchmarks:

    with LocalAws() as aws:
        kinesis = aws.client("kinesis")

The server runs in a child process so that it dies with its parent's context and
never holds the GIL of the process that drives Flink.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config

from flink_job.rest import free_port as free_port  # re-exported: the local runtime uses it

REGION = "us-east-1"
# moto accepts any credentials; these are placeholders, never real secrets.
ACCESS_KEY = "local"
SECRET_KEY = "local"

DEFAULT_STREAMS: tuple[str, ...] = (
    "transactions",
    "alerts",
    "transactions-dlq",
    "labels",
    "decisions",
)


def flink_env() -> dict[str, str]:
    """Environment the JVM that PyFlink starts must inherit to talk to the local AWS.
    Set it before the first PyFlink call of a process: the JVM is started once."""
    return {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        # moto speaks JSON, not CBOR. SDK v1 (the Kinesis consumer) reads the env var;
        # SDK v2 (the Kinesis sink) reads the system property, passed through JVM_ARGS.
        "AWS_CBOR_DISABLE": "1",
        "JVM_ARGS": "-Daws.cborEnabled=false",
    }


def aws_env(endpoint: str) -> dict[str, str]:
    """flink_env() plus the endpoint, for processes (boto3, Lambdas) that use only moto."""
    return {**flink_env(), "AWS_ENDPOINT_URL": endpoint}


@dataclass
class LocalAws:
    """A moto server on 127.0.0.1 with the project's streams created."""

    port: int = 0
    streams: Sequence[str] = DEFAULT_STREAMS
    shards: int = 1
    buckets: Sequence[str] = ()
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
        )

    def start(self) -> LocalAws:
        if self.port == 0:
            self.port = free_port()
        server = [sys.executable, "-m", "local.aws.moto_server"]
        self._process = subprocess.Popen(
            [*server, "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_until_up()
        self.create_resources()
        return self

    def _wait_until_up(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"moto server exited with code {self._process.returncode}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                return
            time.sleep(0.1)
        raise RuntimeError(f"moto server did not listen on port {self.port} in {timeout_s}s")

    def create_resources(self) -> None:
        kinesis = self.client("kinesis")
        for name in self.streams:
            kinesis.create_stream(StreamName=name, ShardCount=self.shards)
        for name in self.streams:
            kinesis.get_waiter("stream_exists").wait(
                StreamName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50}
            )
        s3 = self.client("s3")
        for bucket in self.buckets:
            s3.create_bucket(Bucket=bucket)

    def stop(self) -> None:
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=10)
        self._process = None

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def read_stream(aws: LocalAws, stream: str) -> Iterator[dict[str, Any]]:
    """Every record currently in a stream of the local AWS, oldest first, from all shards."""
    return stream_records(aws.client("kinesis"), stream)


def stream_records(kinesis: Any, stream: str) -> Iterator[dict[str, Any]]:
    """Every record currently in a stream (any Kinesis client), shard by shard, oldest first."""
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            response = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            yield from response["Records"]
            if not response["Records"] and response.get("MillisBehindLatest", 0) == 0:
                break
            iterator = response.get("NextShardIterator")
