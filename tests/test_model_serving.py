"""Model serving under S3 faults, against a real moto S3 server: faults injected by botocore
event hooks on the worker's own S3 client, by stopping the server, by an endpoint that
refuses connections, and by one that accepts them and never answers (a hanging S3).

- a transient read error (connection, timeout, 503) delays a swap; a later poll swaps;
- a version that fails verification is refused for good, and counted;
- a restart with S3 down starts from the local cache, says so, and catches up later;
- a corrupted cache is refused with a message that says what to fix;
- S3 calls give up within seconds, and scoring never waits on a hanging S3.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from pyflink.fn_execution.metrics.process.metric_impl import GenericMetricGroup
from pyflink.table.udf import FunctionContext

from flink_job.features import FEATURE_NAMES, feature_schema_hash
from local.aws import LocalAws, free_port
from local.flink.running import wait_for
from model_export.registry import Registry
from tests.test_registry import write_model
from udfs.metrics import CACHE_STARTS, FETCH_FAILURES, REFUSALS, SWAPS
from udfs.model import (
    MODEL_FILE,
    S3_READ_TIMEOUT_S,
    ModelError,
    ModelSource,
    ModelUnavailableError,
    Store,
)
from udfs.scoring import ScoreTransactions
from udfs.serving import Backoff, ModelCache, ModelServer

FAULTS: dict[str, Exception] = {
    "connection refused": EndpointConnectionError(endpoint_url="http://s3.local"),
    "read timeout": ReadTimeoutError(endpoint_url="http://s3.local"),
    "503 slow down": ClientError(
        cast(
            Any,
            {
                "Error": {"Code": "SlowDown", "Message": "reduce your request rate"},
                "ResponseMetadata": {"HTTPStatusCode": 503},
            },
        ),
        "GetObject",
    ),
}


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws(streams=(), buckets=("models",)) as local:
        yield local


def publish(root: str, endpoint: str | None, tmp_path: Path, *versions: str) -> Registry:
    registry = Registry(root, endpoint)
    for version in versions:
        registry.publish_dir(write_model(tmp_path / version, version))
    return registry


def source(root: str, endpoint: str | None) -> ModelSource:
    return ModelSource(root, FEATURE_NAMES, feature_schema_hash(), endpoint)


def fail_model_reads(model_source: ModelSource, fault: Exception, times: int) -> list[str]:
    """The next `times` reads of a model.onnx by this source raise `fault`, before any byte
    is sent; the paths that failed."""
    failed: list[str] = []

    def before_call(params: dict[str, Any], **_: Any) -> None:
        if params["url_path"].endswith(MODEL_FILE) and len(failed) < times:
            failed.append(params["url_path"])
            raise fault

    model_source.store.client().meta.events.register("before-call.s3.GetObject", before_call)
    return failed


def dead_endpoint() -> str:
    """A loopback port nobody listens on: every connection is refused."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def hanging_endpoint() -> Iterator[str]:
    """An endpoint that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_transient_s3_error_delays_the_swap_and_a_later_poll_swaps_the_model(
    aws: LocalAws, tmp_path: Path, fault: str
) -> None:
    root = f"s3://models/{tmp_path.name}/"
    registry = publish(root, aws.endpoint, tmp_path, "m-a", "m-b")
    registry.promote("m-a")
    model_source = source(root, aws.endpoint)
    cache = ModelCache(tmp_path / "cache")
    server = ModelServer(model_source, cache, 0.05, Backoff(initial_s=0.05, maximum_s=0.2))
    failed = fail_model_reads(model_source, FAULTS[fault], times=3)
    server.start()
    try:
        registry.promote("m-b")
        promoted = time.monotonic()
        wait_for(lambda: server.model.version == "m-b", 30, "the swap to m-b")
        print(f"{fault}: swapped {time.monotonic() - promoted:.2f} s after the promote")
    finally:
        server.stop()

    assert len(failed) == 3  # m-b's model.onnx failed three times, then was read
    assert server.drain_counts() == {FETCH_FAILURES: 3, SWAPS: 1}  # no refusal
    assert cache.load(FEATURE_NAMES, feature_schema_hash()).version == "m-b"


@pytest.mark.parametrize("defect", ["feature schema", "sha256"])
def test_a_version_that_fails_verification_is_refused_for_good(
    aws: LocalAws, tmp_path: Path, defect: str
) -> None:
    root = f"s3://models/{tmp_path.name}/"
    registry = publish(root, aws.endpoint, tmp_path, "m-a")
    if defect == "feature schema":
        registry.publish_dir(write_model(tmp_path / "m-x", "m-x", schema_hash="0" * 64))
    else:
        registry.publish_dir(write_model(tmp_path / "m-x", "m-x"))
        key = f"{tmp_path.name}/versions/m-x/{MODEL_FILE}"
        aws.client("s3").put_object(Bucket="models", Key=key, Body=b"other bytes")
    registry.promote("m-a")
    server = ModelServer(source(root, aws.endpoint), None, 0.05)
    registry.promote("m-x")

    delays = [server.poll() for _ in range(3)]

    assert server.model.version == "m-a"
    assert server.drain_counts() == {REFUSALS: 1}  # refused once, not fetched again
    assert delays == [0.05] * 3  # a refusal is no fetch failure: no backoff


def test_a_restart_with_s3_down_starts_from_the_cached_model_and_catches_up_later(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = "s3://models/fraud/"
    cache = ModelCache(tmp_path / "cache")
    local = LocalAws(streams=(), buckets=("models",)).start()
    try:
        publish(root, local.endpoint, tmp_path, "m-a").promote("m-a")
        ModelServer(source(root, local.endpoint), cache, 0.05)  # a first start caches m-a
        local.stop()  # S3 is gone

        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="udfs.serving"):
            server = ModelServer(source(root, local.endpoint), cache, 0.05)
        start_s = time.monotonic() - started

        assert server.model.version == "m-a"
        assert "unreachable" in caplog.text
        assert f"starting with the cached model m-a from {cache.directory}" in caplog.text
        assert server.drain_counts() == {FETCH_FAILURES: 1, CACHE_STARTS: 1}
        print(f"started from the cache with S3 down in {start_s:.2f} s")

        local.start()  # S3 is back (an empty moto): the registry is published again
        publish(root, local.endpoint, tmp_path / "again", "m-a", "m-b").promote("m-b")
        wait_for(lambda: server.poll() > 0 and server.model.version == "m-b", 30, "m-b")
        assert server.drain_counts() == {SWAPS: 1}
    finally:
        local.stop()


def test_a_corrupted_cache_is_refused_with_a_message_saying_what_to_fix(
    aws: LocalAws, tmp_path: Path
) -> None:
    root = f"s3://models/{tmp_path.name}/"
    publish(root, aws.endpoint, tmp_path, "m-a").promote("m-a")
    cache = ModelCache(tmp_path / "cache")
    ModelServer(source(root, aws.endpoint), cache, 0.05)
    cached = cache.directory / "versions" / "m-a" / MODEL_FILE
    cached.write_bytes(cached.read_bytes() + b"\0")

    with pytest.raises(ModelError) as refused:
        ModelServer(source(root, dead_endpoint()), cache, 0.05)

    message = str(refused.value)
    assert f"the cached model in {cache.directory} is not usable" in message
    assert "has sha256" in message and "the files do not belong together" in message
    assert "delete that directory and restore access to the model registry" in message


def test_s3_down_and_no_cache_stops_the_start_with_a_message_saying_what_to_fix(
    tmp_path: Path,
) -> None:
    cache = ModelCache(tmp_path / "cache")
    with pytest.raises(ModelError, match=r"no cached model in .* restore access to the model"):
        ModelServer(source("s3://models/fraud/", dead_endpoint()), cache, 0.05)


def test_an_s3_call_gives_up_within_seconds_on_a_hanging_s3(hanging_endpoint: str) -> None:
    store = Store("s3://models/fraud", hanging_endpoint)
    started = time.monotonic()
    with pytest.raises(ModelUnavailableError, match="Read timeout"):
        store.read("current.json")
    elapsed = time.monotonic() - started
    print(f"one S3 read against a hanging S3 gave up after {elapsed:.2f} s")
    assert elapsed < 20  # boto3's defaults: 60 s read timeout per attempt, 3 or more attempts


def test_scoring_never_waits_on_a_hanging_s3(
    aws: LocalAws, tmp_path: Path, hanging_endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    root = f"s3://models/{tmp_path.name}/"
    publish(root, aws.endpoint, tmp_path, "m-a").promote("m-a")
    cache_dir = tmp_path / "cache"
    ModelServer(source(root, aws.endpoint), ModelCache(cache_dir), 60.0)  # caches m-a
    features = (tuple(FEATURE_NAMES), feature_schema_hash())
    scorer = ScoreTransactions(root, features, 50, hanging_endpoint, str(cache_dir))
    vectors = pd.Series([np.zeros(len(FEATURE_NAMES), "<f4").tobytes()] * 100)

    with caplog.at_level(logging.WARNING, logger="udfs.serving"):
        scorer.open(FunctionContext(GenericMetricGroup(None, None), {}))
        try:
            durations = []
            deadline = time.monotonic() + 3 * S3_READ_TIMEOUT_S
            while time.monotonic() < deadline:
                started = time.monotonic()
                decisions = scorer.eval(vectors)
                durations.append(time.monotonic() - started)
                assert set(decisions["model_version"]) == {"m-a"}
            wait_for(lambda: "model registry unreadable" in caplog.text, 30, "a failed poll")
        finally:
            scorer.close()

    print(f"{len(durations)} scoring calls while S3 hung: longest {max(durations) * 1000:.1f} ms")
    assert "starting with the cached model m-a" in caplog.text
    assert max(durations) < S3_READ_TIMEOUT_S  # no batch waited for an S3 timeout
