"""E-mail for alerts at or above the configured severity: SES v2, one e-mail per card per interval.

Durable per-card state (table `EMAIL_STATE_TABLE`, key `card_id`):

- `window_ends_at`: no other e-mail for the card before this time (epoch seconds);
- `pending`: map alert_id -> notice (JSON) of alerts held back in the window; the next
  e-mail for the card lists them as "earlier alerts";
- `outbox`: the e-mail in progress, until confirmed: `key` (the claiming alert, or
  `flush:<time>`), `reserved_at`, `notice`; then `attempt`, `headline`, `included` (fixed
  before SES is called); then `message_id` (SES's, recorded before the confirmation).

Each alert's outcome is recorded on its item in the alerts table (`email_status`: `pending`,
`sent` as the headline of `email_message_id`, or `summarised` in it), atomically with the
card state, so a redelivered alert is recognised and never e-mailed twice. A retry resumes
the outbox from its last recorded step: with a message id it only confirms. The one window
for a duplicate: SES accepted and the answer was lost (or the message id could not be
recorded) — an attempt without a message id is sent again, at least once: we prefer an
analyst reading an alert twice to never reading it (README, "E-mail").
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError

from .alert import Alert
from .mail_template import EmailTemplate

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef
    from mypy_boto3_sesv2 import SESV2Client

# A DynamoDB transaction holds at most 100 items: the card, the headline, the earlier alerts.
MAX_EARLIER_PER_EMAIL = 50
# A claim older than this (twice the function's timeout) whose owner never recorded a
# message id is abandoned: its alert is held again for the card's next e-mail.
OUTBOX_LEASE_S = 120.0
# Writes of a SES message id, tried in-process: the one write whose loss means a resend.
_MESSAGE_ID_WRITES = 4
_deserializer = TypeDeserializer()
_CONDITION_FAILED = {"ConditionalCheckFailedException", "TransactionCanceledException"}


class EmailOutcome(Enum):
    NOT_REQUIRED = "not_required"
    SENT = "sent"
    QUEUED = "queued"
    ALREADY_DONE = "already_done"
    RESENT = "resent"  # sent again: an earlier attempt's outcome was unknown


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
class _Outbox:
    """The card's e-mail in progress: claimed, then fixed (`attempt`), then sent (`message_id`)."""

    key: str  # the claiming alert's id, or `flush:<time>`
    reserved_at: float
    notice: AlertNotice | None  # the claiming alert's notice; None for a flush
    attempt: str | None = None  # set with the content, before SES is called
    headline_id: str | None = None
    included: tuple[str, ...] = ()  # the earlier alerts listed, oldest first
    message_id: str | None = None  # SES's id, recorded before the confirmation

    @classmethod
    def from_attribute(cls, value: dict[str, Any]) -> _Outbox:
        fields = {name: _deserializer.deserialize(item) for name, item in value["M"].items()}
        notice = fields.get("notice")
        return cls(
            key=str(fields["key"]),
            reserved_at=float(fields["reserved_at"]),
            notice=AlertNotice.from_json(notice) if notice is not None else None,
            attempt=fields.get("attempt"),
            headline_id=fields.get("headline"),
            included=tuple(fields.get("included", ())),
            message_id=fields.get("message_id"),
        )


@dataclass(frozen=True)
class _CardState:
    """A card's item in the e-mail state table."""

    card_id: str
    pending: dict[str, AlertNotice]
    outbox: _Outbox | None

    @classmethod
    def from_item(cls, card_id: str, item: dict[str, Any]) -> _CardState:
        pending = item.get("pending", {}).get("M", {})
        outbox = item.get("outbox")
        return cls(
            card_id=card_id,
            pending={key: AlertNotice.from_json(value["S"]) for key, value in pending.items()},
            outbox=_Outbox.from_attribute(outbox) if outbox is not None else None,
        )


class AlertMailer:
    """At most one e-mail per card per interval; alerts held back go into the next one.

    Each e-mail goes through the card's `outbox`: claimed (a conditional write), its content
    fixed with an attempt id (before SES is called), its SES message id recorded (before the
    confirmation), then confirmed (one transaction marks the alerts and clears the outbox).
    A retry resumes from the last step recorded, so a failure after SES accepted never sends
    again once the message id is recorded. An attempt without a message id has an unknown
    outcome (SES may or may not have accepted it): that e-mail is sent again (at least once).
    """

    def __init__(
        self,
        dynamodb: DynamoDBClient,
        state_table: str,
        alerts_table: str,
        sender: SesEmailSender,
        interval_s: int,
        clock: Callable[[], float],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._dynamodb = dynamodb
        self._state_table = state_table
        self._alerts_table = alerts_table
        self._sender = sender
        self._interval_s = interval_s
        self._clock = clock
        self._sleep = sleep

    def notify(self, notice: AlertNotice) -> EmailOutcome:
        """E-mail the alert now, or hold it for the card's next e-mail; once per alert_id."""
        for _ in range(4):
            now = self._clock()
            held = self._hold_for_next_email(notice, now)
            if held is not None:
                return held
            state = self._claim(notice.card_id, notice.alert_id, notice, now)
            if state is None:
                state = self._read(notice.card_id)
                if state.outbox is None:
                    continue  # another e-mail went out meanwhile: the window is open again
                if state.outbox.key != notice.alert_id:
                    self._settle_abandoned(state, now)
                    continue
            return self._deliver(state)
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
            except (BotoCoreError, EmailStateContentionError) as error:
                report.failed[card_id] = type(error).__name__
        return report

    def _flush_card(self, card_id: str, now: float) -> int:
        state = self._read(card_id)
        if state.outbox is not None and not self._settle_abandoned(state, now):
            return 0  # an e-mail of this card is in flight
        claimed = self._claim(card_id, f"flush:{now:.3f}", None, now)
        if claimed is None:
            return 0
        if not claimed.pending:
            self._release(claimed)
            return 0
        self._deliver(claimed)
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

    def _claim(
        self, card_id: str, key: str, headline: AlertNotice | None, now: float
    ) -> _CardState | None:
        """Claim the card's next e-mail if its window has ended and no e-mail is in progress."""
        outbox: dict[str, Any] = {"key": {"S": key}, "reserved_at": {"N": _number(now)}}
        if headline is not None:
            outbox["notice"] = {"S": headline.to_json()}
        try:
            new = self._dynamodb.update_item(
                TableName=self._state_table,
                Key={"card_id": {"S": card_id}},
                UpdateExpression="SET window_ends_at = :ends, outbox = :outbox, "
                "pending = if_not_exists(pending, :nothing)",
                ConditionExpression="(attribute_not_exists(window_ends_at) OR "
                "window_ends_at <= :now) AND attribute_not_exists(outbox)",
                ExpressionAttributeValues={
                    ":ends": {"N": _number(now + self._interval_s)},
                    ":outbox": {"M": outbox},
                    ":nothing": {"M": {}},
                    ":now": {"N": _number(now)},
                },
                ReturnValues="ALL_NEW",
            ).get("Attributes", {})
        except ClientError as error:
            if _error_code(error) in _CONDITION_FAILED:
                return None
            raise
        return _CardState.from_item(card_id, dict(new))

    def _read(self, card_id: str) -> _CardState:
        item = self._dynamodb.get_item(
            TableName=self._state_table, Key={"card_id": {"S": card_id}}, ConsistentRead=True
        ).get("Item", {})
        return _CardState.from_item(card_id, dict(item))

    def _deliver(self, state: _CardState) -> EmailOutcome:
        """Take our claimed e-mail from its last recorded step to confirmed."""
        assert state.outbox is not None
        outbox, outcome = state.outbox, EmailOutcome.SENT
        if outbox.message_id is None:
            if outbox.attempt is None:
                outbox = self._fix_content(state, outbox)
            else:
                outcome = EmailOutcome.RESENT  # the last attempt's outcome is unknown
            headline, earlier = _content(state, outbox)
            message_id = self._sender.send(headline, earlier)
            self._record_message_id(state.card_id, outbox, message_id)
            outbox = replace(outbox, message_id=message_id)
        self._confirm(state.card_id, outbox)
        return outcome

    def _fix_content(self, state: _CardState, outbox: _Outbox) -> _Outbox:
        """Record what the e-mail lists (headline, earlier alerts) and an attempt id."""
        held = [n for i, n in state.pending.items() if i != outbox.key]
        selection = sorted(held, key=lambda notice: notice.detected_at)
        if outbox.notice is not None:
            headline_id, earlier = outbox.key, selection[:MAX_EARLIER_PER_EMAIL]
        else:
            *earlier, headline = selection[: MAX_EARLIER_PER_EMAIL + 1]
            headline_id = headline.alert_id
        fixed = replace(
            outbox,
            attempt=uuid.uuid4().hex,
            headline_id=headline_id,
            included=tuple(notice.alert_id for notice in earlier),
        )
        self._dynamodb.update_item(
            TableName=self._state_table,
            Key={"card_id": {"S": state.card_id}},
            UpdateExpression="SET outbox.attempt = :attempt, outbox.headline = :headline, "
            "outbox.included = :included",
            ConditionExpression="outbox.#key = :key AND attribute_not_exists(outbox.attempt)",
            ExpressionAttributeNames={"#key": "key"},
            ExpressionAttributeValues={
                ":attempt": {"S": str(fixed.attempt)},
                ":headline": {"S": headline_id},
                ":included": {"L": [{"S": alert_id} for alert_id in fixed.included]},
                ":key": {"S": outbox.key},
            },
        )
        return fixed

    def _record_message_id(self, card_id: str, outbox: _Outbox, message_id: str) -> None:
        """SES accepted: record its id before anything else can fail; retried here, because
        once this process forgets the id, a retry cannot tell the e-mail went out."""
        for attempt in range(_MESSAGE_ID_WRITES):
            try:
                self._dynamodb.update_item(
                    TableName=self._state_table,
                    Key={"card_id": {"S": card_id}},
                    UpdateExpression="SET outbox.message_id = :message",
                    ConditionExpression="outbox.#key = :key AND outbox.attempt = :attempt",
                    ExpressionAttributeNames={"#key": "key"},
                    ExpressionAttributeValues={
                        ":message": {"S": message_id},
                        ":key": {"S": outbox.key},
                        ":attempt": {"S": str(outbox.attempt)},
                    },
                )
                return
            except (ClientError, BotoCoreError) as error:
                condition = (
                    isinstance(error, ClientError) and _error_code(error) in _CONDITION_FAILED
                )
                if condition or attempt == _MESSAGE_ID_WRITES - 1:
                    raise
                self._sleep(0.05 * 4**attempt)

    def _confirm(self, card_id: str, outbox: _Outbox) -> None:
        """One transaction: clear the outbox and the listed pending alerts, mark the alerts."""
        assert outbox.message_id is not None and outbox.headline_id is not None
        now = self._clock()
        listed = [outbox.headline_id, *outbox.included]
        names = {f"#p{i}": alert_id for i, alert_id in enumerate(listed)}
        removals = ", ".join(["outbox", *(f"pending.{name}" for name in names)])
        try:
            self._dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._state_table,
                            "Key": {"card_id": {"S": card_id}},
                            "UpdateExpression": f"REMOVE {removals} "
                            "SET last_sent_at = :now, last_message_id = :message",
                            "ConditionExpression": "outbox.#key = :key AND "
                            "outbox.message_id = :message",
                            "ExpressionAttributeNames": {"#key": "key", **names},
                            "ExpressionAttributeValues": {
                                ":now": {"N": _number(now)},
                                ":message": {"S": outbox.message_id},
                                ":key": {"S": outbox.key},
                            },
                        }
                    },
                    self._mark(outbox.headline_id, "sent", now, outbox.message_id),
                    *(
                        self._mark(alert_id, "summarised", now, outbox.message_id)
                        for alert_id in outbox.included
                    ),
                ]
            )
        except ClientError as error:
            if _error_code(error) not in _CONDITION_FAILED:
                raise
            outbox_gone, *_ = _failed_conditions(error, len(listed) + 1)
            if not outbox_gone:
                raise
            # Confirmed by an earlier attempt whose answer was lost: nothing left to do.

    def _settle_abandoned(self, state: _CardState, now: float) -> bool:
        """Finish another claim's e-mail: confirm it if SES took it (message id recorded);
        if its lease ran out without a message id, put its alert back among the held ones
        (the card's next e-mail lists it). False when it is still in flight."""
        outbox = state.outbox
        assert outbox is not None
        if outbox.message_id is not None:
            self._confirm(state.card_id, outbox)
            return True
        if outbox.reserved_at > now - OUTBOX_LEASE_S:
            return False
        names: dict[str, str] = {"#key": "key"}
        values: dict[str, Any] = {":key": {"S": outbox.key}}
        expression = "REMOVE outbox"
        if outbox.notice is not None:
            names["#alert"] = outbox.key
            values[":notice"] = {"S": outbox.notice.to_json()}
            expression = "SET pending.#alert = :notice REMOVE outbox"
        try:
            self._dynamodb.update_item(
                TableName=self._state_table,
                Key={"card_id": {"S": state.card_id}},
                UpdateExpression=expression,
                ConditionExpression="outbox.#key = :key AND "
                "attribute_not_exists(outbox.message_id)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if _error_code(error) not in _CONDITION_FAILED:
                raise
        return True

    def _release(self, state: _CardState) -> None:
        assert state.outbox is not None
        self._dynamodb.update_item(
            TableName=self._state_table,
            Key={"card_id": {"S": state.card_id}},
            UpdateExpression="REMOVE outbox",
            ConditionExpression="outbox.#key = :key",
            ExpressionAttributeNames={"#key": "key"},
            ExpressionAttributeValues={":key": {"S": state.outbox.key}},
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


def _content(state: _CardState, outbox: _Outbox) -> tuple[AlertNotice, list[AlertNotice]]:
    """The e-mail an outbox stands for: the same on every attempt."""

    def notice(alert_id: str) -> AlertNotice | None:
        if alert_id == outbox.key and outbox.notice is not None:
            return outbox.notice
        return state.pending.get(alert_id)

    headline = notice(str(outbox.headline_id))
    if headline is None:
        raise EmailStateContentionError(f"the headline of e-mail {outbox.key} is gone")
    earlier = [n for n in map(notice, outbox.included) if n is not None]
    return headline, earlier


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
