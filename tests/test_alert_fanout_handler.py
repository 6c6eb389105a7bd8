"""The fan-out handler on Kinesis events of Lambda's documented shape, against in-process moto."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, ReadTimeoutError
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from contracts.card_number import mask_card_numbers
from lambdas.alert_fanout import handler
from lambdas.alert_fanout.config import FanoutConfig
from lambdas.alert_fanout.fanout import AlertFanout
from local.aws.fanout_resources import provision_fanout
from local.aws.lambda_poller import LocalLambdaContext
from local.traffic.demo_alerts import example_alert

REGION = "us-east-1"
STREAM_ARN = f"arn:aws:kinesis:{REGION}:123456789012:stream/alerts"


def kinesis_event(*payloads: dict[str, Any] | str, first_sequence: int = 1000) -> dict[str, Any]:
    """Lambda's Kinesis event (AWS Lambda developer guide, "Using Lambda with Kinesis")."""
    records = []
    for offset, payload in enumerate(payloads):
        data = payload if isinstance(payload, str) else json.dumps(payload)
        sequence = f"4959{first_sequence + offset:052d}"
        records.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "card",
                    "sequenceNumber": sequence,
                    "data": base64.b64encode(data.encode()).decode(),
                    "approximateArrivalTimestamp": 1795867200.123,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"shardId-000000000000:{sequence}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/fraud-alert-fanout",
                "awsRegion": REGION,
                "eventSourceARN": STREAM_ARN,
            }
        )
    return {"Records": records}


def sequence_numbers(event: dict[str, Any]) -> list[str]:
    return [record["kinesis"]["sequenceNumber"] for record in event["Records"]]


@dataclass
class Clock:
    now: float = 1_795_867_200.0

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    """In-process moto with the fan-out's resources, and the handler wired to them."""

    config: FanoutConfig
    clock: Clock
    hooks: list[tuple[str, Callable[..., Any]]] = field(default_factory=list)

    def start_fanout(self, **changes: Any) -> AlertFanout:
        """(Re)build the handler's fan-out, its clients carrying the registered hooks."""
        self.config = replace(self.config, **changes)
        boto3.setup_default_session(region_name=REGION)
        assert boto3.DEFAULT_SESSION is not None
        for event_name, hook in self.hooks:
            boto3.DEFAULT_SESSION.events.register(event_name, hook)
        fanout = AlertFanout.from_config(self.config, clock=self.clock)
        handler.use_fanout(fanout)
        return fanout

    def invoke(self, event: dict[str, Any]) -> list[str]:
        response = handler.lambda_handler(event, LocalLambdaContext())
        return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]

    def item(self, alert_id: str) -> dict[str, Any]:
        table = boto3.resource("dynamodb", region_name=REGION).Table(self.config.alerts_table)
        item: dict[str, Any] = table.get_item(Key={"alert_id": alert_id})["Item"]
        return item

    def lake_keys(self) -> list[str]:
        s3 = boto3.client("s3", region_name=REGION)
        listing = s3.list_objects_v2(Bucket=self.config.alerts_bucket)
        return sorted(obj["Key"] for obj in listing.get("Contents", []))

    def emails(self) -> list[Any]:
        return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)

    def dead_letters(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs", region_name=REGION)
        assert self.config.deadletter_queue_url is not None
        messages = sqs.receive_message(
            QueueUrl=self.config.deadletter_queue_url, MaxNumberOfMessages=10
        ).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    with mock_aws():
        config = FanoutConfig(email_to=("analysts@example.com",))
        queue_url = provision_fanout(lambda name: boto3.client(name, region_name=REGION), config)
        world = World(replace(config, deadletter_queue_url=queue_url), Clock())
        world.start_fanout()
        yield world
    handler.use_fanout(None)
    boto3.DEFAULT_SESSION = None


def alerts_for_two_cards() -> list[dict[str, Any]]:
    return [
        example_alert("t-1", "card_a", severity="high"),
        example_alert("t-2", "card_b", severity="high"),
        example_alert("t-3", "card_c", severity="low"),
    ]


def test_a_batch_reaches_the_lake_the_store_and_email_by_severity(world: World) -> None:
    alerts = alerts_for_two_cards()
    assert world.invoke(kinesis_event(*alerts)) == []

    ids = [alert["alert_id"] for alert in alerts]
    # detected at 12:00:00.000, the transaction happened at 11:59:59.820: its hour keys the lake
    assert world.lake_keys() == sorted(
        f"alerts/dt=2026-11-28/hour=11/{alert_id}.json" for alert_id in ids
    )
    items = [world.item(alert_id) for alert_id in ids]
    assert [item["status"] for item in items] == ["new", "new", "new"]
    assert items[0]["day"] == "2026-11-28" and items[0]["card_id"] == "card_a"
    assert [item.get("email_status") for item in items] == ["sent", "sent", None]
    emails = world.emails()
    assert len(emails) == 2
    assert {ids[0], ids[1]} == {i for i in ids if any(i in e.body for e in emails)}


def test_alerts_are_listed_by_card_and_by_day_through_the_indexes(world: World) -> None:
    world.invoke(kinesis_event(*alerts_for_two_cards()))
    table = boto3.resource("dynamodb", region_name=REGION).Table(world.config.alerts_table)
    by_card = table.query(
        IndexName="gsi_card",
        KeyConditionExpression="card_id = :card",
        ExpressionAttributeValues={":card": "card_a"},
    )["Items"]
    by_day = table.query(
        IndexName="gsi_day",
        KeyConditionExpression="#day = :day",
        ExpressionAttributeNames={"#day": "day"},
        ExpressionAttributeValues={":day": "2026-11-28"},
    )["Items"]
    assert [item["transaction_id"] for item in by_card] == ["t-1"]
    assert len(by_day) == 3


def test_redelivering_a_batch_repeats_no_effect_and_keeps_the_analysts_verdict(
    world: World,
) -> None:
    event = kinesis_event(*alerts_for_two_cards())
    world.invoke(event)
    alert_id = alerts_for_two_cards()[0]["alert_id"]
    table = boto3.resource("dynamodb", region_name=REGION).Table(world.config.alerts_table)
    table.update_item(
        Key={"alert_id": alert_id},
        UpdateExpression="SET #s = :verdict",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":verdict": "confirmed_fraud"},
    )
    keys, emails = world.lake_keys(), len(world.emails())

    assert world.invoke(event) == []
    assert world.invoke(event) == []

    assert world.lake_keys() == keys
    assert len(world.emails()) == emails == 2
    assert world.item(alert_id)["status"] == "confirmed_fraud"


def test_a_redelivery_after_the_cards_interval_is_not_emailed_again(world: World) -> None:
    event = kinesis_event(*alerts_for_two_cards())
    world.invoke(event)
    world.clock.now += 10 * world.config.email_card_interval_s
    world.invoke(event)
    assert len(world.emails()) == 2


def test_a_malformed_record_is_dead_lettered_at_once_with_its_reason(world: World) -> None:
    event = kinesis_event(example_alert("t-1", "card_a"), '{"schema": "alert.v1", "amount": -1}')
    assert world.invoke(event) == []  # not retried: it would fail the same way every time

    (dead,) = world.dead_letters()
    assert dead["schema"] == "deadletter.v1"
    assert dead["reason"] == "alert_id is required"
    assert dead["payload"] == '{"schema": "alert.v1", "amount": -1}'
    assert dead["source"]["sequenceNumber"] == sequence_numbers(event)[1]
    assert dead["source"]["eventSourceARN"] == STREAM_ARN
    assert len(world.lake_keys()) == 1


def with_field(name: str, value: str) -> str:
    alert = example_alert("t-9", "card_a")
    alert[name] = value
    return json.dumps(alert)


PAN_RECORDS = {
    "space before": with_field("card_id", " 4111111111111111"),
    "dots": with_field("card_id", "4111.1111.1111.1111"),
    "prefix": with_field("card_id", "card-4111111111111111"),
    "terminal": with_field("terminal_id", "4111111111111111"),
    "reasons": with_field("reasons", "x").replace('"x"', '["seen on 4111 1111 1111 1111"]'),
    "json escapes": with_field("card_id", "X").replace('"X"', '"\\u0034111111111111111"'),
}


@pytest.mark.parametrize("raw", PAN_RECORDS.values(), ids=PAN_RECORDS.keys())
def test_an_alert_carrying_a_card_number_is_dead_lettered_masked_and_stored_nowhere(
    world: World, caplog: pytest.LogCaptureFixture, raw: str
) -> None:
    event = kinesis_event(raw)
    assert world.invoke(event) == []

    (dead,) = world.dead_letters()
    assert "must not contain a card number" in dead["reason"]
    assert "[PAN REDACTED]" in dead["payload"]
    assert mask_card_numbers(dead["payload"]) == dead["payload"]  # no digit run left
    assert world.lake_keys() == [] and world.emails() == []
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    assert dynamodb.scan(TableName=world.config.alerts_table)["Items"] == []
    logs = " ".join(str(record.__dict__) for record in caplog.records)  # message and extras
    assert "must not contain a card number" in logs  # the warning was logged...
    assert not any(pan in logs for pan in ("4111111111111111", "4111.1111", "4111 1111"))


def test_a_non_utf8_record_is_dead_lettered_as_base64_with_its_card_number_masked(
    world: World,
) -> None:
    event = kinesis_event("placeholder")
    raw = b"\xff\xfe card 4111111111111111 \x80"
    event["Records"][0]["kinesis"]["data"] = base64.b64encode(raw).decode()
    assert world.invoke(event) == []

    (dead,) = world.dead_letters()
    assert dead["payload_encoding"] == "base64"
    payload = base64.b64decode(dead["payload"])
    assert payload == b"\xff\xfe card [PAN REDACTED] \x80"


def test_without_a_dead_letter_queue_a_malformed_record_fails_for_the_mapping(
    world: World,
) -> None:
    world.start_fanout(deadletter_queue_url=None)
    event = kinesis_event(example_alert("t-1", "card_a"), "not json")
    assert world.invoke(event) == [sequence_numbers(event)[1]]


def failing_once(operation: str, code: str, when: Callable[[dict[str, Any]], bool]) -> Any:
    """A botocore before-call hook that fails the first matching call with `code`."""
    calls: list[dict[str, Any]] = []

    def hook(params: dict[str, Any], **_: Any) -> None:
        if when(params) and not calls:
            calls.append(params)
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)

    return hook


def test_a_transient_s3_error_fails_only_that_record(world: World) -> None:
    alerts = alerts_for_two_cards()
    target = alerts[1]["alert_id"]
    hook = failing_once("PutObject", "SlowDown", lambda p: target in p["url_path"])
    world.hooks.append(("before-call.s3.PutObject", hook))
    world.start_fanout()
    event = kinesis_event(*alerts)

    assert world.invoke(event) == [sequence_numbers(event)[1]]
    assert len(world.lake_keys()) == 2

    assert world.invoke(kinesis_event(*alerts[1:], first_sequence=1001)) == []
    assert len(world.lake_keys()) == 3
    assert len(world.emails()) == 2


def test_an_ses_throttle_fails_only_that_record_and_the_retry_emails_it_once(
    world: World,
) -> None:
    alerts = alerts_for_two_cards()
    hook = failing_once("SendEmail", "TooManyRequestsException", lambda p: True)
    world.hooks.append(("before-call.sesv2.SendEmail", hook))
    world.start_fanout()
    event = kinesis_event(*alerts)

    assert world.invoke(event) == [sequence_numbers(event)[0]]
    assert len(world.emails()) == 1
    assert world.item(alerts[0]["alert_id"]).get("email_status") is None

    assert world.invoke(event) == []  # the mapping retries from the failed record
    assert len(world.emails()) == 2
    assert sum(alerts[0]["alert_id"] in email.body for email in world.emails()) == 1


def test_further_alerts_within_the_interval_wait_for_the_cards_next_email(
    world: World,
) -> None:
    first, second, third, later = (
        example_alert(f"t-{n}", "card_a", severity="high") for n in range(1, 5)
    )
    world.invoke(kinesis_event(first, second))
    world.clock.now += 60
    world.invoke(kinesis_event(third, first_sequence=2000))
    assert len(world.emails()) == 1
    assert world.item(second["alert_id"])["email_status"] == "pending"

    world.clock.now += world.config.email_card_interval_s
    world.invoke(kinesis_event(later, first_sequence=3000))

    emails = world.emails()
    assert len(emails) == 2
    summary = emails[1]
    assert later["alert_id"] in summary.subject or later["alert_id"] in summary.body
    assert "2 earlier alert(s)" in summary.body
    assert second["alert_id"] in summary.body and third["alert_id"] in summary.body
    assert world.item(second["alert_id"])["email_status"] == "summarised"
    assert world.item(later["alert_id"])["email_status"] == "sent"


def test_the_flush_emails_held_alerts_once_the_interval_has_ended(world: World) -> None:
    first, second = (example_alert(f"t-{n}", "card_a") for n in (1, 2))
    world.invoke(kinesis_event(first, second))
    mailer = handler.fanout().mailer
    assert mailer.flush_due().sent == 0  # the interval has not ended

    world.clock.now += world.config.email_card_interval_s + 1
    assert mailer.flush_due().sent == 1
    assert mailer.flush_due().sent == 0
    emails = world.emails()
    assert len(emails) == 2 and second["alert_id"] in emails[1].body
    assert world.item(second["alert_id"])["email_status"] == "sent"


def test_an_interval_of_zero_emails_every_alert(world: World) -> None:
    world.start_fanout(email_card_interval_s=0)
    alerts = [example_alert(f"t-{n}", "card_a") for n in range(3)]
    world.invoke(kinesis_event(*alerts))
    assert len(world.emails()) == 3


def test_alerts_below_the_configured_severity_are_not_emailed(world: World) -> None:
    world.start_fanout(email_min_severity="medium")
    alerts = [
        example_alert("t-1", "card_a", severity="low"),
        example_alert("t-2", "card_b", severity="medium"),
        example_alert("t-3", "card_c", severity="high"),
    ]
    world.invoke(kinesis_event(*alerts))
    bodies = " ".join(email.body for email in world.emails())
    assert [alert["alert_id"] in bodies for alert in alerts] == [False, True, True]


def test_ses_rendering_sends_the_stored_template_and_its_data(world: World) -> None:
    requests: list[dict[str, Any]] = []

    def accept(params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        requests.append(json.loads(params["body"]))
        http = AWSResponse("https://email.local", 200, {}, None)
        return (http, {"MessageId": "m-1", "ResponseMetadata": {"HTTPStatusCode": 200}})

    world.hooks.append(("before-call.sesv2.SendEmail", accept))
    world.start_fanout(email_rendering="ses")
    alert = example_alert("t-1", "card_a")
    assert world.invoke(kinesis_event(alert)) == []

    (request,) = requests
    template = request["Content"]["Template"]
    assert template["TemplateName"] == "fraud-alert"
    data = json.loads(template["TemplateData"])
    assert data["alert_id"] == alert["alert_id"] and data["amount"] == "812.50"
    assert world.item(alert["alert_id"])["email_message_id"] == "m-1"


def test_an_email_whose_record_was_given_up_is_listed_in_the_cards_next_email(
    world: World,
) -> None:
    abandoned, later = (example_alert(f"t-{n}", "card_a") for n in (1, 2))
    hook = failing_once("SendEmail", "TooManyRequestsException", lambda p: True)
    world.hooks.append(("before-call.sesv2.SendEmail", hook))
    world.start_fanout()
    event = kinesis_event(abandoned)
    assert world.invoke(event) == sequence_numbers(event)  # then dead-lettered, never retried

    world.clock.now += world.config.email_card_interval_s + 1
    world.invoke(kinesis_event(later, first_sequence=2000))

    (email,) = world.emails()
    assert "1 earlier alert(s)" in email.body and abandoned["alert_id"] in email.body
    assert world.item(abandoned["alert_id"])["email_status"] == "summarised"


def test_the_sdk_never_retries_sendemail_the_record_does(world: World) -> None:
    """SES has no idempotency token: an SDK retry after a read timeout would send blind (the
    first request may have been accepted). SendEmail gets one attempt per call; the failed
    record is retried by the mapping, through the outbox."""
    attempts: list[str] = []

    def times_out_once(**_: Any) -> None:
        attempts.append("send")
        if len(attempts) == 1:
            raise ReadTimeoutError(endpoint_url="https://email.local")

    world.hooks.append(("before-send.sesv2.SendEmail", times_out_once))
    world.start_fanout()
    alert = example_alert("t-1", "card_a")
    event = kinesis_event(alert)
    assert world.invoke(event) == sequence_numbers(event)
    assert len(attempts) == 1 and world.emails() == []

    assert world.invoke(event) == []
    assert len(attempts) == 2 and len(world.emails()) == 1
    assert world.item(alert["alert_id"])["email_status"] == "sent"
    assert world.invoke(event) == [] and len(world.emails()) == 1
