"""E-mail for alerts at or above the configured severity: SES v2, one e-mail per card per interval.

Durable per-card state (table `EMAIL_STATE_TABLE`, key `card_id`):

- `window_ends_at`: no other e-mail for the card before this time (epoch seconds);
- `pending`: map alert_id -> notice (JSON) of alerts held back in the window; the next
  e-mail for the card lists them as "earlier alerts";
- `outbox`: the e-mail being sent (`key`, and the headline notice), until confirmed.

Each alert's outcome is recorded on its item in the alerts table (`email_status`: `pending`,
`sent` as the headline of `email_message_id`, or `summarised` in it), atomically with the
card state, so a redelivered alert is recognised and never e-mailed twice. A failed send
leaves the outbox in place; the retry of the same alert resumes it. The one window for a
duplicate is a crash between SES accepting the e-mail and the confirmation: we prefer an
analyst reading an alert twice to never reading it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from .alert import Alert
from .mail_template import EmailTemplate

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef
    from mypy_boto3_sesv2 import SESV2Client

# A DynamoDB transaction holds at most 100 items: the card, the headline, the earlier alerts.
MAX_EARLIER_PER_EMAIL = 50
_CONDITION_FAILED = {"ConditionalCheckFailedException", "TransactionCanceledException"}


class EmailOutcome(Enum):
    NOT_REQUIRED = "not_required"
    SENT = "sent"
    QUEUED = "queued"
    ALREADY_DONE = "already_done"


class EmailStateContentionError(RuntimeError):
    """The card's e-mail state kept changing under us; the record is retried."""


@dataclass(frozen=True)
class AlertNotice:
    """What an e-mail says about one alert."""

    alert_id: str
    card_id: str
    terminal_id: str
    amount: str
    currency: str
    score: str
    threshold: str
    severity: str
    model_version: str
    reasons: tuple[str, ...]
    detected_at: str
    console_url: str

    @classmethod
    def from_alert(cls, alert: Alert, console_base_url: str) -> AlertNotice:
        return cls(
            alert_id=alert.alert_id,
            card_id=alert.card_id,
            terminal_id=alert.terminal_id,
            amount=f"{alert.amount:.2f}",
            currency=alert.currency,
            score=f"{alert.score:.2f}",
            threshold=f"{alert.threshold:.2f}",
            severity=alert.severity,
            model_version=alert.model_version,
            reasons=alert.reasons,
            detected_at=alert.detected_at,
            console_url=f"{console_base_url}/alerts/{alert.alert_id}",
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> AlertNotice:
        document = json.loads(text)
        document["reasons"] = tuple(document["reasons"])
        return cls(**document)

    def summary_values(self) -> dict[str, Any]:
        return {**asdict(self), "top_reason": self.reasons[0] if self.reasons else ""}


def template_data(headline: AlertNotice, earlier: Sequence[AlertNotice]) -> dict[str, Any]:
    return {
        **asdict(headline),
        "reasons": list(headline.reasons),
        "has_earlier": bool(earlier),
        "earlier_count": len(earlier),
        "earlier": [notice.summary_values() for notice in earlier],
    }


class SesEmailSender:
    """Sends one alert e-mail through SES v2, rendered here or by SES's stored template."""

    def __init__(
        self,
        ses: SESV2Client,
        sender: str,
        recipients: Sequence[str],
        template: EmailTemplate,
        rendering: str,
        ses_template_name: str,
    ) -> None:
        self._ses = ses
        self._sender = sender
        self._recipients = list(recipients)
        self._template = template
        self._rendering = rendering
        self._ses_template_name = ses_template_name

    def send(self, headline: AlertNotice, earlier: Sequence[AlertNotice]) -> str:
        data = template_data(headline, earlier)
        if self._rendering == "ses":
            content: Any = {
                "Template": {
                    "TemplateName": self._ses_template_name,
                    "TemplateData": json.dumps(data, ensure_ascii=False),
                }
            }
        else:
            email = self._template.render(data)
            content = {
                "Simple": {
                    "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Html": {"Data": email.html, "Charset": "UTF-8"},
                        "Text": {"Data": email.text, "Charset": "UTF-8"},
                    },
                }
            }
        response = self._ses.send_email(
            FromEmailAddress=self._sender,
            Destination={"ToAddresses": self._recipients},
            Content=content,
        )
        return response["MessageId"]


@dataclass
class FlushReport:
    sent: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # card_id -> error code


@dataclass(frozen=True)
class _Reservation:
    card_id: str
    key: str
    earlier: list[AlertNotice]


class AlertMailer:
    """At most one e-mail per card per interval; alerts held back go into the next one."""

    def __init__(
        self,
        dynamodb: DynamoDBClient,
        state_table: str,
        alerts_table: str,
        sender: SesEmailSender,
        interval_s: int,
        clock: Callable[[], float],
    ) -> None:
        self._dynamodb = dynamodb
        self._state_table = state_table
        self._alerts_table = alerts_table
        self._sender = sender
        self._interval_s = interval_s
        self._clock = clock

    def notify(self, notice: AlertNotice) -> EmailOutcome:
        """E-mail the alert now, or hold it for the card's next e-mail; once per alert_id."""
        for _ in range(3):
            now = self._clock()
            held = self._hold_for_next_email(notice, now)
            if held is not None:
                return held
            reservation = self._reserve(notice.card_id, notice.alert_id, notice, now)
            if reservation is not None:
                self._send_and_confirm(reservation, notice, reservation.earlier)
                return EmailOutcome.SENT
        raise EmailStateContentionError(f"e-mail state of card {notice.card_id} kept changing")

    def flush_due(self, now: float | None = None) -> FlushReport:
        """E-mail the held-back alerts of every card whose window has ended.

        A card whose e-mail fails keeps its alerts held; the next flush after its
        window tries again. Other cards are not held up by it.
        """
        now = self._clock() if now is None else now
        report = FlushReport()
        for card_id in self._cards_due(now):
            try:
                report.sent += self._flush_card(card_id, now)
            except ClientError as error:
                report.failed[card_id] = _error_code(error) or str(error)
        return report

    def _flush_card(self, card_id: str, now: float) -> int:
        reservation = self._reserve(card_id, f"flush:{now:.3f}", None, now)
        if reservation is None:
            return 0
        if not reservation.earlier:
            self._release(reservation)
            return 0
        *earlier, headline = reservation.earlier
        self._send_and_confirm(reservation, headline, earlier)
        return 1

    def _hold_for_next_email(self, notice: AlertNotice, now: float) -> EmailOutcome | None:
        """Hold the alert for the card's next e-mail if its window is open.

        ALREADY_DONE when the alert item already has an e-mail status (a redelivery);
        None when the window is closed and the alert must be e-mailed now.
        """
        try:
            self._dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._state_table,
                            "Key": {"card_id": {"S": notice.card_id}},
                            "UpdateExpression": "SET pending.#alert = :notice",
                            "ConditionExpression": "window_ends_at > :now AND "
                            "(attribute_not_exists(outbox) OR outbox.#key <> :alert_id)",
                            "ExpressionAttributeNames": {"#alert": notice.alert_id, "#key": "key"},
                            "ExpressionAttributeValues": {
                                ":notice": {"S": notice.to_json()},
                                ":now": {"N": _number(now)},
                                ":alert_id": {"S": notice.alert_id},
                            },
                        }
                    },
                    self._mark(notice.alert_id, "pending", now),
                ]
            )
        except ClientError as error:
            if _error_code(error) not in _CONDITION_FAILED:
                raise
            _, alert_failed = _failed_conditions(error, 2)
            return EmailOutcome.ALREADY_DONE if alert_failed else None
        return EmailOutcome.QUEUED

    def _reserve(
        self, card_id: str, key: str, headline: AlertNotice | None, now: float
    ) -> _Reservation | None:
        """Claim the card's next e-mail if its window has ended (or resume our own claim)."""
        outbox: dict[str, Any] = {"key": {"S": key}, "reserved_at": {"N": _number(now)}}
        if headline is not None:
            outbox["notice"] = {"S": headline.to_json()}
        try:
            old = self._dynamodb.update_item(
                TableName=self._state_table,
                Key={"card_id": {"S": card_id}},
                UpdateExpression="SET window_ends_at = :ends, outbox = :outbox, "
                "pending = if_not_exists(pending, :nothing)",
                ConditionExpression="attribute_not_exists(window_ends_at) OR "
                "window_ends_at <= :now OR outbox.#key = :key",
                ExpressionAttributeNames={"#key": "key"},
                ExpressionAttributeValues={
                    ":ends": {"N": _number(now + self._interval_s)},
                    ":outbox": {"M": outbox},
                    ":nothing": {"M": {}},
                    ":now": {"N": _number(now)},
                    ":key": {"S": key},
                },
                ReturnValues="ALL_OLD",
            ).get("Attributes", {})
        except ClientError as error:
            if _error_code(error) in _CONDITION_FAILED:
                return None
            raise
        pending = old.get("pending", {}).get("M", {})
        earlier = [AlertNotice.from_json(value["S"]) for value in pending.values()]
        earlier.extend(_abandoned_headline(old.get("outbox"), key))
        unique = {notice.alert_id: notice for notice in earlier if notice.alert_id != key}
        oldest_first = sorted(unique.values(), key=lambda notice: notice.detected_at)
        return _Reservation(card_id, key, oldest_first[:MAX_EARLIER_PER_EMAIL])

    def _send_and_confirm(
        self, reservation: _Reservation, headline: AlertNotice, earlier: Sequence[AlertNotice]
    ) -> None:
        message_id = self._sender.send(headline, earlier)
        now = self._clock()
        included = {headline.alert_id, *(notice.alert_id for notice in earlier)}
        names = {f"#p{i}": alert_id for i, alert_id in enumerate(sorted(included))}
        removals = ", ".join(["outbox", *(f"pending.{name}" for name in names)])
        self._dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": self._state_table,
                        "Key": {"card_id": {"S": reservation.card_id}},
                        "UpdateExpression": f"REMOVE {removals} "
                        "SET last_sent_at = :now, last_message_id = :message",
                        "ConditionExpression": "outbox.#key = :key",
                        "ExpressionAttributeNames": {"#key": "key", **names},
                        "ExpressionAttributeValues": {
                            ":now": {"N": _number(now)},
                            ":message": {"S": message_id},
                            ":key": {"S": reservation.key},
                        },
                    }
                },
                self._mark(headline.alert_id, "sent", now, message_id),
                *(self._mark(notice.alert_id, "summarised", now, message_id) for notice in earlier),
            ]
        )

    def _release(self, reservation: _Reservation) -> None:
        self._dynamodb.update_item(
            TableName=self._state_table,
            Key={"card_id": {"S": reservation.card_id}},
            UpdateExpression="REMOVE outbox",
            ConditionExpression="outbox.#key = :key",
            ExpressionAttributeNames={"#key": "key"},
            ExpressionAttributeValues={":key": {"S": reservation.key}},
        )

    def _mark(
        self, alert_id: str, status: str, now: float, message_id: str | None = None
    ) -> TransactWriteItemTypeDef:
        """The alert item's e-mail status; `pending` only for an alert not handled before."""
        values: dict[str, Any] = {":status": {"S": status}, ":now": {"N": _number(now)}}
        expression = "SET email_status = :status, email_updated_at = :now"
        condition = "attribute_exists(alert_id)"
        if message_id is not None:
            values[":message"] = {"S": message_id}
            expression += ", email_message_id = :message"
        else:
            condition += " AND attribute_not_exists(email_status)"
        return {
            "Update": {
                "TableName": self._alerts_table,
                "Key": {"alert_id": {"S": alert_id}},
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeValues": values,
            }
        }

    def _cards_due(self, now: float) -> list[str]:
        """Cards whose window has ended with alerts held back or an abandoned e-mail."""
        cards: list[str] = []
        paginator = self._dynamodb.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self._state_table,
            ProjectionExpression="card_id",
            FilterExpression="window_ends_at <= :now AND "
            "(size(pending) > :zero OR attribute_exists(outbox))",
            ExpressionAttributeValues={":now": {"N": _number(now)}, ":zero": {"N": "0"}},
            ConsistentRead=True,
        ):
            cards.extend(item["card_id"]["S"] for item in page.get("Items", []))
        return cards


def _abandoned_headline(outbox: AttributeValueTypeDef | None, key: str) -> list[AlertNotice]:
    """The headline of an e-mail another alert reserved and never confirmed (its window ended)."""
    if outbox is None:
        return []
    fields = outbox.get("M", {})
    if fields.get("key", {}).get("S") == key or "notice" not in fields:
        return []
    return [AlertNotice.from_json(fields["notice"]["S"])]


def _failed_conditions(error: ClientError, items: int) -> list[bool]:
    """Which items of a cancelled transaction failed their condition (none, if not reported)."""
    reasons: list[Any] = list(error.response.get("CancellationReasons", []))
    if len(reasons) != items:
        return [False] * items
    return [reason.get("Code") == "ConditionalCheckFailed" for reason in reasons]


def _number(value: float) -> str:
    return f"{value:.3f}"


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
