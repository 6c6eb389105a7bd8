"""The local runner's child process starts a job whatever this process ran before."""

from __future__ import annotations

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
