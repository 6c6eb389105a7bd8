"""Shared fixtures. PyFlink starts one JVM per process; it must inherit the local-AWS
environment (credentials, CBOR off), so that is set before anything imports PyFlink."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flink_job.main import put_jar_on_gateway_classpath
from local.aws import flink_env

os.environ.update(flink_env())
put_jar_on_gateway_classpath()  # the job's Java functions callable through the JVM gateway

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "sample_transactions.jsonl"


@pytest.fixture(scope="session")
def sample_path() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A model trained on the committed sample, once per test session."""
    from model_export.train import train

    out = tmp_path_factory.mktemp("model")
    manifest = train(SAMPLE, out, target_precision=0.8, seed=7)
    yield {"dir": out, "manifest": manifest}


@pytest.fixture(scope="session")
def java_parsing() -> Any:
    """The package io.fraudstream.parsing of the connector jar, through PyFlink's gateway."""
    from pyflink.java_gateway import get_gateway

    return get_gateway().jvm.io.fraudstream.parsing


@pytest.fixture(scope="session")
def jvm() -> Any:
    """The gateway JVM with the connector jar on this thread's class loader."""
    from pyflink.java_gateway import get_gateway
    from pyflink.util.java_utils import add_jars_to_context_class_loader

    from flink_job.main import CONNECTOR_JAR

    add_jars_to_context_class_loader([CONNECTOR_JAR.resolve().as_uri()])
    return get_gateway().jvm
