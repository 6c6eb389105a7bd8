"""The local event-source mapping against moto server: event shape, checkpoints, bisecting,
retries, the on-failure queue, and the real handler end to end."""

from __future__ import annotations

import base64
import itertools
import json
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest

from lambdas.alert_fanout import handler
from lambdas.alert_fanout.config import FanoutConfig
from local.aws import LocalAws, read_stream
from local.aws.fanout_environment import function_environment
from local.aws.fanout_resources import provision_fanout, sent_emails
from local.aws.lambda_poller import LambdaPoller, MappingSettings, first_failed_index, run_fanout
from local.flink.running import wait_for
from local.traffic.demo_alerts import example_alert, put_alerts

_names = itertools.count()


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    with LocalAws(streams=("alerts",)) as local:
        yield local


@pytest.fixture
def settings(aws: LocalAws) -> MappingSettings:
    """A fresh stream and on-failure queue for each test."""
    name = f"alerts-{next(_names)}"
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
    return MappingSettings(stream=name, on_failure_queue=f"{name}-dlq", batch_size=4)


class ScriptedFunction:
    """A stand-in Lambda that records its events and fails the records it is told to."""

    def __init__(self, fail_times: dict[str, int] | None = None, raise_on: str = "") -> None:
        self.events: list[dict[str, Any]] = []
        self.fail_times = dict(fail_times or {})
        self.raise_on = raise_on

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        payloads = [self.payload(record) for record in event["Records"]]
        if self.raise_on and self.raise_on in payloads:
            raise RuntimeError(f"cannot handle {self.raise_on}")
        failures = []
        for record, payload in zip(event["Records"], payloads, strict=True):
            if self.fail_times.get(payload, 0) > 0:
                self.fail_times[payload] -= 1
                failures.append({"itemIdentifier": record["kinesis"]["sequenceNumber"]})
        return {"batchItemFailures": failures}

    @staticmethod
    def payload(record: dict[str, Any]) -> str:
        return base64.b64decode(record["kinesis"]["data"]).decode()

    def batches(self) -> list[list[str]]:
        return [[self.payload(r) for r in event["Records"]] for event in self.events]


def put(aws: LocalAws, stream: str, *payloads: str) -> None:
    put_alerts(aws, list(payloads), stream=stream)


def on_failure_messages(aws: LocalAws, poller: LambdaPoller) -> list[dict[str, Any]]:
    response = aws.client("sqs").receive_message(
        QueueUrl=poller.on_failure_queue_url, MaxNumberOfMessages=10
    )
    return [json.loads(message["Body"]) for message in response.get("Messages", [])]


def test_the_handler_receives_lambdas_kinesis_event_shape(
    aws: LocalAws, settings: MappingSettings
) -> None:
    put(aws, settings.stream, "a", "b", "c", "d", "e")
    function = ScriptedFunction()
    poller = LambdaPoller(aws, function, settings)
    poller.run_until_idle(timeout_s=20)

    assert function.batches() == [["a", "b", "c", "d"], ["e"]]
    record = function.events[0]["Records"][0]
    assert set(record) == {
        "kinesis", "eventSource", "eventVersion", "eventID", "eventName",
        "invokeIdentityArn", "awsRegion", "eventSourceARN",
    }  # fmt: skip
    assert set(record["kinesis"]) == {
        "kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data",
        "approximateArrivalTimestamp",
    }  # fmt: skip
    assert record["eventSource"] == "aws:kinesis"
    assert record["eventSourceARN"] == poller.stream_arn
    assert record["eventID"] == f"shardId-000000000000:{record['kinesis']['sequenceNumber']}"
    assert abs(record["kinesis"]["approximateArrivalTimestamp"] - time.time()) < 60
    assert poller.stats.records_processed == 5


def test_a_partial_failure_is_retried_from_the_first_failed_record(
    aws: LocalAws, settings: MappingSettings
) -> None:
    put(aws, settings.stream, "a", "b", "c", "d")
    function = ScriptedFunction(fail_times={"b": 1, "d": 2})
    poller = LambdaPoller(aws, function, settings)
    stats = poller.run_until_idle(timeout_s=20)

    assert function.batches() == [["a", "b", "c", "d"], ["b", "c", "d"], ["d"]]
    assert (stats.retries, stats.records_processed, stats.records_to_on_failure) == (2, 4, 0)


def test_a_record_that_keeps_failing_goes_with_the_rest_of_its_batch_to_the_on_failure_queue(
    aws: LocalAws, settings: MappingSettings
) -> None:
    put(aws, settings.stream, "a", "poison", "b", "c", "after")
    function = ScriptedFunction(fail_times={"poison": 99})
    poller = LambdaPoller(aws, function, replace(settings, maximum_retry_attempts=2))
    stats = poller.run_until_idle(timeout_s=20)

    assert function.batches()[:3] == [["a", "poison", "b", "c"]] + [["poison", "b", "c"]] * 2
    assert function.batches()[3:] == [["after"]]
    (message,) = on_failure_messages(aws, poller)
    batch = message["KinesisBatchInfo"]
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 3
    assert batch["batchSize"] == 3 and batch["streamArn"] == poller.stream_arn
    first_records = function.events[1]["Records"]
    assert batch["startSequenceNumber"] == first_records[0]["kinesis"]["sequenceNumber"]
    assert batch["endSequenceNumber"] == first_records[-1]["kinesis"]["sequenceNumber"]
    assert [base64.b64decode(r["data"]).decode() for r in message["localRecords"]] == [
        "poison", "b", "c",
    ]  # fmt: skip
    assert (stats.records_processed, stats.records_to_on_failure) == (2, 3)


def test_a_function_error_bisects_the_batch_until_the_poison_record_is_alone(
    aws: LocalAws, settings: MappingSettings
) -> None:
    put(aws, settings.stream, "a", "b", "poison", "c")
    function = ScriptedFunction(raise_on="poison")
    poller = LambdaPoller(aws, function, replace(settings, maximum_retry_attempts=1))
    stats = poller.run_until_idle(timeout_s=20)

    assert function.batches() == [
        ["a", "b", "poison", "c"], ["a", "b"], ["poison", "c"], ["poison"], ["poison"], ["c"],
    ]  # fmt: skip
    (message,) = on_failure_messages(aws, poller)
    assert message["KinesisBatchInfo"]["batchSize"] == 1
    assert "RuntimeError: cannot handle poison" in message["responseContext"]["functionError"]
    assert (stats.bisections, stats.records_processed, stats.records_to_on_failure) == (2, 3, 1)


def test_records_older_than_the_maximum_age_are_not_delivered(
    aws: LocalAws, settings: MappingSettings
) -> None:
    put(aws, settings.stream, "old")
    (record,) = read_stream(aws, settings.stream)
    arrived = record["ApproximateArrivalTimestamp"]
    wait_for(lambda: datetime.now(UTC) - arrived > timedelta(seconds=1), 10, "the record to age")
    function = ScriptedFunction()
    poller = LambdaPoller(aws, function, replace(settings, maximum_record_age_s=1))
    poller.run_until_idle(timeout_s=20)

    assert function.events == []
    (message,) = on_failure_messages(aws, poller)
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"


RECORDS = [{"SequenceNumber": s} for s in ("10", "11", "12")]


@pytest.mark.parametrize(
    ("response", "checkpoint"),
    [
        (None, None),
        ({}, None),
        ({"batchItemFailures": []}, None),
        ({"batchItemFailures": [{"itemIdentifier": "12"}, {"itemIdentifier": "11"}]}, 1),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, 0),
        ({"batchItemFailures": [{"itemIdentifier": "99"}]}, 0),
        ({"batchItemFailures": [{"id": "11"}]}, 0),
        ({"batchItemFailures": "11"}, 0),
    ],
)
def test_the_checkpoint_follows_lambdas_partial_batch_rules(
    response: Any, checkpoint: int | None
) -> None:
    assert first_failed_index(response, RECORDS) == checkpoint


@pytest.fixture
def fanout_env(aws: LocalAws) -> Iterator[tuple[FanoutConfig, dict[str, str]]]:
    """The real handler's configuration, with fresh resources, restored afterwards."""
    suffix = next(_names)
    config = FanoutConfig(
        alerts_bucket=f"fraud-alerts-lake-{suffix}",
        alerts_table=f"fraud-alerts-{suffix}",
        email_state_table=f"fraud-alerts-email-state-{suffix}",
        email_from=f"fraud-{suffix}@example.com",
    )
    queue_url = provision_fanout(aws.client, config, queue_name=f"fanout-dlq-{suffix}")
    with mock.patch.dict(os.environ):
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
        config = replace(config, deadletter_queue_url=queue_url)
        yield config, function_environment(config, queue_url)
    handler.use_fanout(None)


def test_the_real_handler_stores_emails_and_dead_letters_through_the_poller(
    aws: LocalAws, settings: MappingSettings, fanout_env: tuple[FanoutConfig, dict[str, str]]
) -> None:
    config, environment = fanout_env
    severities = ["high", "low", "medium", "high"] * 3
    alerts = [example_alert(f"t-{n}", f"card_{n}", s) for n, s in enumerate(severities)]
    put_alerts(aws, [*alerts, "not json"], stream=settings.stream)
    emails_before = len(sent_emails(aws))
    poller = LambdaPoller(aws, settings=settings, environment=environment)
    stats = poller.run_until_idle(timeout_s=30)
    summary = poller.summary(config)

    severe = [alert for alert in alerts if alert["severity"] == "high"]
    assert stats.records_processed == 13 and stats.records_to_on_failure == 0
    assert (summary.alerts_stored, summary.lake_objects) == (12, 12)
    assert summary.dead_letter_messages == 1 and summary.alerts_held_for_next_email == 0
    emails = [e for e in sent_emails(aws)[emails_before:] if e["source"] == config.email_from]
    assert len(emails) == len(severe) > 0
    assert all(any(a["alert_id"] in e["body"] for e in emails) for a in severe)
    assert all(e["destinations"]["ToAddresses"] == list(config.email_to) for e in emails)


def test_run_fanout_delivers_the_alerts_stream_quietly(
    aws: LocalAws,
    fanout_env: tuple[FanoutConfig, dict[str, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What the demo and the crash test run: the default stream, the given batch size, and
    nothing of the handler's on stdout."""
    config, _ = fanout_env
    alerts = [example_alert(f"q-{n}", f"card_q{n}", "low") for n in range(5)]
    put_alerts(aws, alerts)
    poller, stats = run_fanout(aws, config, config.deadletter_queue_url, batch_size=2, timeout_s=30)
    assert (stats.records_processed, stats.invocations) == (5, 3)
    assert poller.summary(config).alerts_stored == 5
    assert capsys.readouterr().out == ""
