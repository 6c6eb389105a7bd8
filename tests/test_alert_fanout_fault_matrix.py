"""Fault matrix: every AWS call the fan-out makes fails once, and each effect still happens once.

The real handler runs behind the local event-source mapping (`local.aws.lambda_poller`) against a
real moto server. For each step (S3 PutObject; DynamoDB PutItem, UpdateItem, GetItem,
TransactWriteItems; SES SendEmail), each fault (throttling, 5xx, read timeout, connect
timeout) and each phase (`before`: the service never saw the call; `after`: the service did
it and the caller got a 5xx or a read timeout), the n-th call of that step fails, for
n = 1, 2, ... until the scenario no longer makes an n-th call: every position of that step
in the run, in the first delivery, in its retries, in the redeliveries and in the flush.

The scenario: three alerts (A and B on one card, both at or above the e-mail severity, so B
is held for the card's next e-mail and flushed later; C below it), each delivered once as
the job wrote it and once more as a replay of the job stamps it (a new `detected_at` three
hours later), with retries as the mapping does them after a partial batch failure.

Per alert, afterwards: exactly one lake object (bucket versioning on, so a second write of a
key would show), on the key from its `event_time`; exactly one DynamoDB item, status `new`,
`day` from `event_time`, the first delivery's `detected_at`; exactly one e-mail that lists
it for A and B, none for C. The one exception is documented (lambdas/alert_fanout/README.md,
"Failure model"): when SES accepted an e-mail and the caller never learnt it (the `after`
phase of SendEmail), the retry cannot know and sends that e-mail again: exactly two.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError

from lambdas.alert_fanout import handler
from lambdas.alert_fanout.config import FanoutConfig
from lambdas.alert_fanout.fanout import AlertFanout
from local.aws import LocalAws, aws_env
from local.aws.fanout_environment import function_environment
from local.aws.fanout_resources import ON_FAILURE_QUEUE, provision_fanout, sent_emails
from local.aws.lambda_poller import LambdaPoller, MappingSettings
from local.traffic.demo_alerts import example_alert

STEPS = {
    "s3.PutObject": "s3",
    "dynamodb.PutItem": "dynamodb",
    "dynamodb.UpdateItem": "dynamodb",
    "dynamodb.GetItem": "dynamodb",
    "dynamodb.TransactWriteItems": "dynamodb",
    "sesv2.SendEmail": "sesv2",
}
THROTTLE_CODES = {
    "s3": ("SlowDown", 503),
    "dynamodb": ("ProvisionedThroughputExceededException", 400),
    "sesv2": ("TooManyRequestsException", 429),
}
FAULTS = ("throttle", "5xx", "read_timeout", "connect_timeout")
# After the service carried a call out, the caller can still see a 5xx or a read timeout;
# a throttle or a connect timeout means the call was refused or never sent: `before` only.
FAULT_PHASES = [
    *((fault, "before") for fault in FAULTS),
    ("5xx", "after"),
    ("read_timeout", "after"),
]
CONFIG = FanoutConfig(email_min_severity="medium", email_to=("analysts@example.com",))
START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def fault_error(service: str, fault: str, operation: str) -> Exception:
    if fault == "read_timeout":
        return ReadTimeoutError(endpoint_url=f"https://{service}.injected")
    if fault == "connect_timeout":
        return ConnectTimeoutError(endpoint_url=f"https://{service}.injected")
    code, status = THROTTLE_CODES[service] if fault == "throttle" else ("InternalFailure", 500)
    response: Any = {
        "Error": {"Code": code, "Message": "injected"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)


@dataclass
class OneFault:
    """Fails the n-th call of one step, before or after the service ran it."""

    step: str
    fault: str
    phase: str
    position: int
    calls: int = 0
    fired_on: dict[str, Any] | None = None

    def on_call(self, step: str, phase: str, params: dict[str, Any]) -> None:
        if (step, phase) != (self.step, self.phase):
            return
        self.calls += 1
        if self.calls == self.position:
            self.fired_on = params
            service, operation = step.split(".")
            raise fault_error(service, self.fault, operation)

    @property
    def fired(self) -> bool:
        return self.fired_on is not None


class FaultHooks:
    """Botocore hooks on the handler's clients (`before-call` / `after-call` of each step),
    passing each call to the fault of the running scenario."""

    def __init__(self) -> None:
        self.fault: OneFault | None = None

    def register(self, session: boto3.Session) -> None:
        for step in STEPS:
            for phase, event in (("before", "before-call"), ("after", "after-call")):
                session.events.register(f"{event}.{step}", self._hook(step, phase))

    def _hook(self, step: str, phase: str) -> Any:
        def hook(context: dict[str, Any], **kwargs: Any) -> None:
            if phase == "before":  # after-call sees no parameters: keep them in the context
                context["call_params"] = kwargs["params"]
            if self.fault is not None:
                self.fault.on_call(step, phase, context.get("call_params", {}))

        return hook


@dataclass
class Outcome:
    lake_versions: dict[str, list[str]]  # alert_id -> keys of every object version
    items: dict[str, dict[str, Any]]
    emails_per_alert: dict[str, int]
    held: list[dict[str, Any]]
    records_to_on_failure: int
    doubled_in_faulted_email: set[str] = field(default_factory=set)


def scenario_alerts() -> list[dict[str, Any]]:
    return [
        example_alert("t-a", "card_1", severity="high", detected_at=START),
        example_alert("t-b", "card_1", severity="high", detected_at=START + timedelta(minutes=1)),
        example_alert("t-c", "card_2", severity="low", detected_at=START + timedelta(minutes=2)),
    ]


def replayed(alert: dict[str, Any]) -> dict[str, Any]:
    """The same alert as a replay of the job writes it: detected (and ingested) again later."""
    later = {
        name: (datetime.fromisoformat(alert[name].replace("Z", "+00:00")) + timedelta(hours=3))
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
        for name in ("detected_at", "ingested_at")
    }
    return {**alert, **later}


@dataclass
class World:
    aws: LocalAws
    hooks: FaultHooks
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = self.aws.client(service)
        return self.clients[service]


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One moto server and one fan-out (as one warm Lambda container) for every scenario."""
    with LocalAws(streams=()) as aws, mock.patch.dict(os.environ):
        os.environ.update(aws_env(aws.endpoint))
        os.environ.update(function_environment(CONFIG, f"{aws.endpoint}/{ON_FAILURE_QUEUE}"))
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
        hooks = FaultHooks()
        boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        hooks.register(boto3.DEFAULT_SESSION)
        handler.use_fanout(AlertFanout.from_config(FanoutConfig.from_env()))
        boto3.setup_default_session()  # the test's own clients carry no fault hooks
        yield World(aws, hooks)
    handler.use_fanout(None)
    boto3.DEFAULT_SESSION = None


def run_scenario(world: World, fault: OneFault | None) -> Outcome:
    """A fresh moto state, the scenario's records through the mapping, the flush, read-back."""
    request = urllib.request.Request(f"{world.aws.endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    kinesis = world.client("kinesis")
    kinesis.create_stream(StreamName="alerts", ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName="alerts", WaiterConfig={"Delay": 0.1})
    provision_fanout(world.client, CONFIG)
    world.client("s3").put_bucket_versioning(
        Bucket=CONFIG.alerts_bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    alerts = scenario_alerts()
    for alert in [*alerts, *map(replayed, alerts)]:
        kinesis.put_record(
            StreamName="alerts", Data=json.dumps(alert).encode(), PartitionKey=alert["card_id"]
        )
    world.hooks.fault = fault
    try:
        settings = MappingSettings(batch_size=3, maximum_retry_attempts=5)
        stats = LambdaPoller(world.aws, settings=settings).run_until_idle(timeout_s=60)
        flush_until_nothing_is_held()
    finally:
        world.hooks.fault = None
    return read_back(world, alerts, stats.records_to_on_failure)


def flush_until_nothing_is_held() -> None:
    """The scheduled flush, each run past the last window (and the outbox lease)."""
    mailer = handler.fanout().mailer
    later = datetime.now(UTC).timestamp()
    for rounds in range(1, 8):
        report = mailer.flush_due(now=later + rounds * 1000)
        if report.sent == 0 and not report.failed:
            return
    raise AssertionError("held alerts were never e-mailed")


def read_back(world: World, alerts: list[dict[str, Any]], to_on_failure: int) -> Outcome:
    ids = [alert["alert_id"] for alert in alerts]
    pages = world.client("s3").get_paginator("list_object_versions")
    versions = [
        version["Key"]
        for page in pages.paginate(Bucket=CONFIG.alerts_bucket)
        for version in page.get("Versions", [])
    ]
    lake = {i: [key for key in versions if key.endswith(f"/{i}.json")] for i in ids}
    dynamodb = world.client("dynamodb")
    items = {
        item["alert_id"]["S"]: {name: _plain(value) for name, value in item.items()}
        for item in dynamodb.scan(TableName=CONFIG.alerts_table)["Items"]
    }
    bodies = [email["body"] for email in sent_emails(world.aws)]
    state = [
        {name: _plain(value) for name, value in item.items()}
        for item in dynamodb.scan(TableName=CONFIG.email_state_table)["Items"]
    ]
    held = [item for item in state if item.get("pending") or "outbox" in item]
    return Outcome(
        lake_versions=lake,
        items=items,
        emails_per_alert={i: sum(i in body for body in bodies) for i in ids},
        held=held,
        records_to_on_failure=to_on_failure,
    )


def _plain(value: dict[str, Any]) -> Any:
    return TypeDeserializer().deserialize(value)  # type: ignore[arg-type]


def alert_ids_in_email(params: dict[str, Any], ids: list[str]) -> set[str]:
    text = repr(params)
    return {alert_id for alert_id in ids if alert_id in text}


def assert_each_effect_once(outcome: Outcome, emailed_twice: set[str]) -> None:
    alerts = scenario_alerts()
    assert outcome.records_to_on_failure == 0
    for alert in alerts:
        alert_id, happened = alert["alert_id"], datetime.fromisoformat(alert["event_time"])
        key = f"alerts/dt={happened:%Y-%m-%d}/hour={happened:%H}/{alert_id}.json"
        assert outcome.lake_versions[alert_id] == [key], (
            f"lake objects of {alert['transaction_id']}"
        )
        item = outcome.items[alert_id]
        assert item["status"] == "new"
        assert item["day"] == f"{happened:%Y-%m-%d}"
        assert item["detected_at"] == alert["detected_at"]  # the first delivery's, kept
    assert set(outcome.items) == {alert["alert_id"] for alert in alerts}
    a, b, c = (alert["alert_id"] for alert in alerts)
    expected = {a: 1, b: 1, c: 0} | dict.fromkeys(emailed_twice, 2)
    assert outcome.emails_per_alert == expected
    assert outcome.items[a]["email_status"] == "sent"
    assert outcome.items[b]["email_status"] in ("sent", "summarised")
    assert "email_status" not in outcome.items[c]
    assert outcome.held == []


def test_without_faults_each_alert_has_each_effect_once(world: World) -> None:
    assert_each_effect_once(run_scenario(world, None), emailed_twice=set())


@pytest.mark.parametrize(("fault", "phase"), FAULT_PHASES)
@pytest.mark.parametrize("step", STEPS)
def test_one_failing_call_at_any_position_leaves_each_effect_once(
    world: World, step: str, fault: str, phase: str
) -> None:
    ids = [alert["alert_id"] for alert in scenario_alerts()]
    positions = doubled = 0
    for position in range(1, 40):
        injected = OneFault(step, fault, phase, position)
        outcome = run_scenario(world, injected)
        if not injected.fired:
            break
        positions += 1
        # SES accepted and the answer was lost: the documented at-least-once window.
        unknown = step == "sesv2.SendEmail" and phase == "after"
        twice = alert_ids_in_email(injected.fired_on or {}, ids) if unknown else set()
        doubled += len(twice)
        try:
            assert_each_effect_once(outcome, emailed_twice=twice)
        except AssertionError as error:
            raise AssertionError(f"{step} {fault} {phase}, call {position}: {error}") from error
    print(
        f"\nfault-matrix {step} {fault} {phase}: {positions} positions, e-mails doubled {doubled}"
    )
    assert positions > 0, f"the scenario never calls {step}"
