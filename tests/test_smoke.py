"""`python -m local.traffic.smoke` (make smoke): given a deployment's Terraform outputs, a
few hundred transactions in, then their alerts, the DynamoDB items, the lake objects, an
e-mail and the alert through the API with a token; non-zero naming what did not arrive.

Run here against the local stack: moto on loopback, the real job on a mini-cluster
(local.flink.running), the fan-out's real handler fed like its event-source mapping, the API's
real handler behind the console server with the development issuer's token."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdas.alert_fanout.config import FanoutConfig
from local.aws import LocalAws
from local.aws.fanout_environment import function_environment
from local.aws.fanout_resources import provision_fanout
from local.aws.lambda_poller import LambdaPoller, MappingSettings
from local.console.server import running
from local.flink.running import RunningPipeline
from local.traffic.smoke import Deployment, OutputsError, main, smoke_records

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def terraform_outputs(config: FanoutConfig, api_endpoint: str | None) -> dict[str, Any]:
    """The local stack's names in the shape of `terraform output -json`."""
    values: dict[str, Any] = {
        "stream_names": {
            "transactions": "transactions",
            "labels": "labels",
            "alerts": "alerts",
            "deadletter": "transactions-dlq",
        },
        "alerts_table": config.alerts_table,
        "alerts_lake_bucket": config.alerts_bucket,
        "alerts_lake_prefix": config.lake_prefix,
        "api_endpoint": api_endpoint,
    }
    return {name: {"sensitive": False, "type": "string", "value": v} for name, v in values.items()}


def write_outputs(path: Path, outputs: dict[str, Any]) -> Path:
    path.write_text(json.dumps(outputs))
    return path


def test_deployment_reads_terraform_output_json() -> None:
    config = FanoutConfig()
    deployment = Deployment.from_outputs(terraform_outputs(config, "https://api.example"))
    assert deployment.transactions_stream == "transactions"
    assert deployment.alerts_stream == "alerts"
    assert deployment.lake_bucket == config.alerts_bucket
    assert deployment.api_endpoint == "https://api.example"
    with pytest.raises(OutputsError, match="alerts_table"):
        Deployment.from_outputs({"stream_names": {"value": {"transactions": "t", "alerts": "a"}}})


def test_smoke_records_are_the_samples_newest_with_their_frauds() -> None:
    from datetime import UTC, datetime

    records, frauds = smoke_records(300, datetime(2026, 12, 7, tzinfo=UTC))
    assert len(records) == 300
    ids = {json.loads(r)["transaction_id"] for r in records}
    assert frauds and frauds <= ids
    assert max(json.loads(r)["event_time"] for r in records) == "2026-12-07T00:00:00.000Z"


def test_smoke_refuses_unusable_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["--outputs", str(tmp_path / "bad.json")]) == 2
    assert main(["--outputs", str(write_outputs(tmp_path / "o.json", {}))]) == 2
    assert "lack stream_names" in capsys.readouterr().err


def test_smoke_names_everything_that_did_not_arrive_when_no_job_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Streams but no job, no fan-out, no API: exit 1, and each missing part named."""
    config = FanoutConfig()
    with LocalAws() as aws:
        provision_fanout(aws.client, config)
        outputs = write_outputs(tmp_path / "outputs.json", terraform_outputs(config, None))
        code = main(
            ["--outputs", str(outputs), "--count", "20", "--rate", "1000", "--timeout", "3"],
            clients=aws.client,
        )
    out = capsys.readouterr().out
    assert code == 1
    assert "did not arrive: alerts, dynamodb items, lake objects, e-mail, api" in out


@contextlib.contextmanager
def fanout_thread(poller: LambdaPoller) -> Iterator[None]:
    """`poller` (the fan-out's real handler on the alerts stream, fed like its event-source
    mapping) polling in a thread until the block ends."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def deliver() -> None:
        try:  # metrics are off, so the handler prints nothing (no stdout redirect: global)
            while not stop.is_set():
                if poller.poll_once() == 0:
                    stop.wait(0.2)
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)

    thread = threading.Thread(target=deliver, name="fanout", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not errors, errors


def fanout_running(aws: LocalAws, config: FanoutConfig, queue_url: str) -> Any:
    """The fan-out of `config` on the local stack, polling until the block ends."""
    poller = LambdaPoller(
        aws,
        settings=MappingSettings(batch_size=100),
        environment={
            **function_environment(config, queue_url),
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        },
    )
    return fanout_thread(poller)


def test_smoke_passes_against_the_running_local_stack(
    trained_model: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = FanoutConfig()
    with LocalAws() as aws:
        queue_url = provision_fanout(aws.client, config)
        with (
            RunningPipeline(aws, str(trained_model["dir"])),
            fanout_running(aws, config, queue_url),
            running(aws.endpoint, alerts_table=config.alerts_table) as console,
        ):
            token = console.server.issuer.token_for("analyst")
            outputs = terraform_outputs(config, f"{console.origin}/api")
            path = write_outputs(tmp_path / "outputs.json", outputs)
            code = main(
                ["--outputs", str(path), "--token", token, "--rate", "200", "--timeout", "240"],
                clients=aws.client,
            )
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0, out + captured.err
    assert "smoke: everything arrived" in out
    for check in ("alerts", "dynamodb items", "lake objects", "e-mail", "api"):
        assert f"ok   {check}" in out
