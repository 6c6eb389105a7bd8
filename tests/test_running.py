"""The local runner's child process starts a job whatever this process ran before."""

from __future__ import annotations

import pytest

from local.running import child_environment


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
