"""What the alert fan-out writes to, made on the local AWS as Terraform makes it on AWS
(bucket, tables with the API's indexes, SES identity, dead-letter queue), and its effects
read back (stored alerts, lake objects, e-mails SES accepted, dead letters)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lambdas.alert_fanout.config import FanoutConfig
from local.aws import LocalAws

ON_FAILURE_QUEUE = "fraud-alerts-fanout-dlq"


@dataclass(frozen=True)
class FanoutSummary:
    """The fan-out's effects, read back from the local AWS."""

    alerts_stored: int
    lake_objects: int
    emails_sent: int
    alerts_held_for_next_email: int
    dead_letter_messages: int

    def lines(self, records_to_on_failure: int) -> list[str]:
        """The effects, for people; `records_to_on_failure`: the mapping's dead letters."""
        return [
            f"alerts stored         {self.alerts_stored} in DynamoDB, "
            f"{self.lake_objects} objects in the S3 lake",
            f"e-mails sent          {self.emails_sent} (read from moto's SES); "
            f"{self.alerts_held_for_next_email} alerts held for their card's next e-mail",
            f"dead-lettered         {self.dead_letter_messages} SQS messages "
            f"({records_to_on_failure} records after retries, the rest malformed)",
        ]


def provision_fanout(
    client: Callable[[str], Any], config: FanoutConfig, queue_name: str = ON_FAILURE_QUEUE
) -> str:
    """Create what the fan-out writes to (Terraform does in AWS); the dead-letter queue URL.

    `client` makes a boto3 client for a service name, e.g. `LocalAws.client`.
    """
    client("s3").create_bucket(Bucket=config.alerts_bucket)
    dynamodb = client("dynamodb")
    # the analyst API's indexes (lambdas/api/repository.py): by day, card, terminal, status
    by_day_and_card = [
        {
            "IndexName": name,
            "KeySchema": [
                {"AttributeName": key, "KeyType": "HASH"},
                {"AttributeName": "detected_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
        for name, key in (
            ("gsi_day", "day"),
            ("gsi_card", "card_id"),
            ("gsi_terminal", "terminal_id"),
            ("gsi_status", "status"),
        )
    ]
    dynamodb.create_table(
        TableName=config.alerts_table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"}
            for name in ("alert_id", "day", "card_id", "detected_at", "terminal_id", "status")
        ],
        KeySchema=[{"AttributeName": "alert_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=by_day_and_card,
    )
    dynamodb.create_table(
        TableName=config.email_state_table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "card_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "card_id", "KeyType": "HASH"}],
    )
    client("sesv2").create_email_identity(EmailIdentity=config.email_from)
    queue_url: str = client("sqs").create_queue(QueueName=queue_name)["QueueUrl"]
    return queue_url


def sent_emails(aws: LocalAws) -> list[dict[str, Any]]:
    """The e-mails moto's SES accepted (`/moto-api/data.json`: id, subject, body, ...)."""
    with urllib.request.urlopen(f"{aws.endpoint}/moto-api/data.json", timeout=10) as response:
        models = json.load(response)
    messages: list[dict[str, Any]] = models.get("ses", {}).get("Message", [])
    return messages


def read_fanout_summary(
    aws: LocalAws, config: FanoutConfig, queue_urls: Sequence[str]
) -> FanoutSummary:
    dynamodb = aws.client("dynamodb")
    stored = dynamodb.scan(TableName=config.alerts_table, Select="COUNT")["Count"]
    held = dynamodb.scan(
        TableName=config.alerts_table,
        Select="COUNT",
        FilterExpression="email_status = :pending",
        ExpressionAttributeValues={":pending": {"S": "pending"}},
    )["Count"]
    pages = aws.client("s3").get_paginator("list_objects_v2")
    objects = sum(
        page.get("KeyCount", 0)
        for page in pages.paginate(Bucket=config.alerts_bucket, Prefix=config.lake_prefix)
    )
    sqs = aws.client("sqs")
    dead_letters = sum(
        int(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
                "Attributes"
            ]["ApproximateNumberOfMessages"]
        )
        for url in queue_urls
    )
    return FanoutSummary(
        alerts_stored=int(stored),
        lake_objects=int(objects),
        emails_sent=len(sent_emails(aws)),
        alerts_held_for_next_email=int(held),
        dead_letter_messages=dead_letters,
    )
