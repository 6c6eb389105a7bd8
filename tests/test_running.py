"""The local runner's child process starts a job whatever this process ran before."""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path

import pytest

from local.flink.running import child_environment, wait_quiet


def test_the_job_child_does_not_inherit_pyflink_udf_worker_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What PyFlink leaves behind after a local job ran its Python UDFs in this process.
    monkeypatch.setenv("PYFLINK_GATEWAY_DISABLED", "true")
    monkeypatch.setenv("PYTHON_LOOPBACK_SERVER_ADDRESS", "localhost:1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    env = child_environment()
    assert "PYFLINK_GATEWAY_DISABLED" not in env
    assert "PYTHON_LOOPBACK_SERVER_ADDRESS" not in env
    assert env["AWS_REGION"] == "us-east-1"


class _Tail:
    """A stand-in for a StreamTail: a count that grows on every read, or stays put."""

    def __init__(self, growing: bool) -> None:
        self.growing = growing
        self.records = 0

    def count(self) -> int:
        self.records += int(self.growing)
        return self.records


def test_wait_quiet_returns_once_a_stream_settles() -> None:
    wait_quiet(_Tail(growing=False), quiet_s=0.2, timeout_s=5)  # type: ignore[arg-type]


def test_wait_quiet_fails_when_a_stream_never_settles() -> None:
    with pytest.raises(TimeoutError, match="still arriving"):
        wait_quiet(_Tail(growing=True), quiet_s=0.3, timeout_s=1)  # type: ignore[arg-type]


@pytest.mark.integration
def test_the_job_starts_again_on_another_port_when_its_rest_port_answers_another_protocol(
    tmp_path: Path,
) -> None:
    """A port picked free can be taken before the job's REST server binds it (in make test a
    JVM's own port once answered there): the runner starts the job again elsewhere."""
    from local.aws import LocalAws
    from local.flink.rest import FlinkRest
    from local.flink.running import RunningPipeline
    from tests.test_registry import write_model

    squatter = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    taken = squatter.getsockname()[1]

    def answer_in_binary() -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = squatter.accept()
                with connection:
                    connection.sendall(b"\x00\x00\x00\x10\x40\xfe binary, not HTTP\r\n")

    threading.Thread(target=answer_in_binary, daemon=True).start()
    model = write_model(tmp_path / "model", "m-port", threshold=0.5)
    try:
        with LocalAws() as aws:
            job = RunningPipeline(aws, str(model))
            job.rest_port, job.rest = taken, FlinkRest(taken)
            with job:
                assert job.rest_port != taken and job.job_ids()
    finally:
        squatter.close()
