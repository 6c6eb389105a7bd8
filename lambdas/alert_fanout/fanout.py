"""One alert record in, its three effects out: lake object, store item, e-mail (if severe).

Effects run in that order and each is idempotent on `alert_id`, so a redelivered or retried
record repeats nothing that already happened. A malformed record is not retried: it goes to
the dead-letter queue at once with the reason (`deadletter.v1`).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from contracts.card_number import mask_card_numbers

from .alert import Alert, MalformedAlertError, parse_alert
from .config import FanoutConfig
from .lake import AlertLake
from .mail import AlertMailer, AlertNotice, EmailOutcome, SesEmailSender
from .mail_template import load_template
from .store import AlertStore

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# Retries inside the function stay short: the event-source mapping owns the long retries.
_CLIENT_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5)
# SES SendEmail has no idempotency token: an SDK retry after a read timeout or a 5xx would
# send blind. One attempt per call; the mailer's outbox decides what a retry may do.
_SES_CONFIG = Config(
    retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=10
)


@dataclass(frozen=True)
class RecordSource:
    """Where a record came from, kept with it if it is dead-lettered."""

    event_source_arn: str
    event_id: str
    sequence_number: str
    partition_key: str
    approximate_arrival_timestamp: float


@dataclass
class FanoutResult:
    alert: Alert | None
    lake_written: bool = False
    stored: bool = False
    email: EmailOutcome = EmailOutcome.NOT_REQUIRED
    dead_letter_reason: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)


class AlertFanout:
    def __init__(
        self,
        config: FanoutConfig,
        lake: AlertLake,
        store: AlertStore,
        mailer: AlertMailer,
        sqs: SQSClient,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.lake = lake
        self.store = store
        self.mailer = mailer
        self._sqs = sqs
        self._clock = clock

    @classmethod
    def from_config(
        cls, config: FanoutConfig, clock: Callable[[], float] = time.time
    ) -> AlertFanout:
        """Clients from the ordinary boto3 environment (AWS_ENDPOINT_URL points them locally)."""
        dynamodb = boto3.client("dynamodb", config=_CLIENT_CONFIG)
        sender = SesEmailSender(
            boto3.client("sesv2", config=_SES_CONFIG),
            sender=config.email_from,
            recipients=config.email_to,
            template=load_template(),
            rendering=config.email_rendering,
            ses_template_name=config.ses_template,
        )
        return cls(
            config=config,
            lake=AlertLake(
                boto3.client("s3", config=_CLIENT_CONFIG), config.alerts_bucket, config.lake_prefix
            ),
            store=AlertStore(dynamodb, config.alerts_table),
            mailer=AlertMailer(
                dynamodb,
                state_table=config.email_state_table,
                alerts_table=config.alerts_table,
                sender=sender,
                interval_s=config.email_card_interval_s,
                clock=clock,
            ),
            sqs=boto3.client("sqs", config=_CLIENT_CONFIG),
            clock=clock,
        )

    def process(self, data: bytes, source: RecordSource) -> FanoutResult:
        try:
            alert = parse_alert(data)
        except MalformedAlertError as malformed:
            return self._dead_letter(data, source, str(malformed))
        result = FanoutResult(alert=alert)
        result.lake_written = self.lake.write(alert)
        result.stored = self.store.put_new(alert)
        if alert.at_least(self.config.email_min_severity):
            notice = AlertNotice.from_alert(alert, self.config.console_base_url)
            result.email = self.mailer.notify(notice)
        result.metrics["AlertAgeAtFanoutMs"] = (self._clock() - alert.detected.timestamp()) * 1e3
        return result

    def _dead_letter(self, data: bytes, source: RecordSource, reason: str) -> FanoutResult:
        """Send a malformed record to the dead-letter queue; without one, fail it (retried)."""
        if self.config.deadletter_queue_url is None:
            raise MalformedAlertError(reason)
        self._sqs.send_message(
            QueueUrl=self.config.deadletter_queue_url,
            MessageBody=json.dumps(deadletter_record(data, source, reason, self._clock())),
        )
        return FanoutResult(alert=None, dead_letter_reason=reason)


def deadletter_record(data: bytes, source: RecordSource, reason: str, now: float) -> dict[str, Any]:
    """`deadletter.v1` (README): the payload as received with every card number masked
    (`contracts.card_number.mask_card_numbers`), the reason, and where it came from."""
    try:
        payload, encoding = mask_card_numbers(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        # Latin-1 maps each byte to one character, so masking keeps every other byte as is.
        masked = mask_card_numbers(data.decode("latin-1")).encode("latin-1")
        payload, encoding = base64.b64encode(masked).decode("ascii"), "base64"
    return {
        "schema": "deadletter.v1",
        "reason": mask_card_numbers(reason),
        "payload": payload,
        "payload_encoding": encoding,
        "source": {
            "eventSourceARN": source.event_source_arn,
            "eventID": source.event_id,
            "sequenceNumber": source.sequence_number,
            "partitionKey": source.partition_key,
        },
        "ingested_at": _iso(source.approximate_arrival_timestamp),
        "detected_at": _iso(now),
    }


def _iso(epoch_s: float) -> str:
    return (
        datetime.fromtimestamp(epoch_s, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
