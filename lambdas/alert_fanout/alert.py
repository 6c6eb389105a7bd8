"""Alert v1 (contracts.alert, README "Contracts"): parse and validate, field by field from
the contract's table (its types and required-ness; the few rules of their own below); a
malformed alert names its fault."""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from contracts.alert import ALERT_ID_HEX_CHARS, ALERT_V1, SCHEMA, SEVERITIES
from contracts.card_number import contains_card_number
from contracts.fields import (
    BOOLEAN,
    NUMBER,
    NUMBERS,
    NUMBERS_BY_NAME,
    STRING,
    STRINGS,
    TIMESTAMP,
    Field,
)

# The decoded string fields that may never hold a card number (contracts/card_number.py).
# `alert_id` (hex), `model_version` and the timestamps are checked by their own formats.
CARD_NUMBER_FREE = (
    "card_id",
    "terminal_id",
    "transaction_id",
    "merchant_category",
    "country",
    "channel",
    "reasons",
    "reason_codes",
)
_ALERT_ID = re.compile(rf"^[0-9a-f]{{{ALERT_ID_HEX_CHARS}}}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$")


class MalformedAlertError(ValueError):
    """The record is not a valid Alert v1; the message is the reason, naming field and rule."""


@dataclass(frozen=True)
class Alert:
    alert_id: str
    transaction_id: str
    event_time: str
    card_id: str
    terminal_id: str
    amount: float
    currency: str
    merchant_category: str | None
    country: str | None
    channel: str | None
    score: float
    threshold: float
    severity: str
    model_version: str
    reasons: tuple[str, ...]
    reason_codes: tuple[str, ...]
    reason_contributions: tuple[float, ...]
    features: dict[str, float]
    late: bool
    ingested_at: str
    detected_at: str

    @property
    def detected(self) -> datetime:
        return parse_utc(self.detected_at)

    @property
    def happened(self) -> datetime:
        """The transaction's `event_time` in UTC: fixed per transaction, unlike `detected_at`,
        which a replay of the job stamps anew."""
        return parse_utc(self.event_time)

    def at_least(self, severity: str) -> bool:
        return SEVERITIES.index(self.severity) >= SEVERITIES.index(severity)

    def to_record(self) -> dict[str, Any]:
        """The alert as a JSON-ready dict, with `schema` first: the lake's row."""
        record = asdict(self)
        record["reasons"] = list(self.reasons)
        record["reason_codes"] = list(self.reason_codes)
        record["reason_contributions"] = list(self.reason_contributions)
        return {"schema": SCHEMA, **record}


def parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def parse_alert(text: str | bytes) -> Alert:
    """Alert v1 from a record's data, or MalformedAlertError with the reason."""
    try:
        document = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedAlertError(f"record is not UTF-8 JSON: {error}") from None
    if not isinstance(document, dict):
        raise MalformedAlertError("record must be a JSON object")
    if document.get("schema") != SCHEMA:
        raise MalformedAlertError(f"schema must be {SCHEMA!r}, got {document.get('schema')!r}")
    fields = _Fields(document)
    values = {f.name: _read(fields, f) for f in ALERT_V1.fields if f.name != "schema"}
    alert = Alert(**values)
    _reject_card_numbers(alert)
    return alert


# Rules of single fields beyond their contract type.
_PATTERNS = {
    "alert_id": (_ALERT_ID, f"{ALERT_ID_HEX_CHARS} lowercase hex characters"),
    "currency": (_CURRENCY, "3 upper-case letters"),
}
_RANGES: dict[str, tuple[float, float | None]] = {
    "amount": (0.0, None),
    "score": (0.0, 1.0),
    "threshold": (0.0, 1.0),
}
_CHOICES = {"severity": SEVERITIES}


def _read(fields: _Fields, field: Field) -> Any:
    """One contract field's value, read by its type and checked by its rules."""
    name = field.name
    if field.type == STRING and name in _PATTERNS:
        return fields.matching(name, *_PATTERNS[name])
    if field.type == STRING and name in _CHOICES:
        return fields.choice(name, _CHOICES[name])
    if field.type == STRING:
        return fields.text(name) if field.required else fields.optional_text(name)
    if field.type == TIMESTAMP:
        return fields.timestamp(name)
    if field.type == NUMBER:
        minimum, maximum = _RANGES.get(name, (None, None))
        return fields.number(name, minimum=minimum, maximum=maximum)
    if field.type == STRINGS:
        return fields.texts(name)
    if field.type == NUMBERS:
        return fields.numbers(name)
    if field.type == NUMBERS_BY_NAME:
        return fields.numbers_by_name(name)
    if field.type == BOOLEAN:
        return fields.flag(name)
    raise TypeError(f"Alert v1 field {name} has type {field.type}, which no reader knows")


def _reject_card_numbers(alert: Alert) -> None:
    """No card number in any free-text field, whatever its separators or JSON escapes."""
    for name in CARD_NUMBER_FREE:
        value = getattr(alert, name)
        texts = value if isinstance(value, tuple) else (value,)
        if any(text is not None and contains_card_number(text) for text in texts):
            raise MalformedAlertError(f"{name} must not contain a card number")


class _Fields:
    """Typed reads of one JSON object's fields; each failure names the field and the rule."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._document = document

    def _required(self, name: str) -> Any:
        if name not in self._document or self._document[name] is None:
            raise MalformedAlertError(f"{name} is required")
        return self._document[name]

    def text(self, name: str) -> str:
        value = self._required(name)
        if not isinstance(value, str) or not value.strip():
            raise MalformedAlertError(f"{name} must be a non-empty string")
        return value

    def optional_text(self, name: str) -> str | None:
        value = self._document.get(name)
        if value is not None and not isinstance(value, str):
            raise MalformedAlertError(f"{name} must be a string or null")
        return value

    def matching(self, name: str, pattern: re.Pattern[str], rule: str) -> str:
        value = self.text(name)
        if not pattern.match(value):
            raise MalformedAlertError(f"{name} must be {rule}")
        return value

    def timestamp(self, name: str) -> str:
        value = self.text(name)
        if not _RFC3339_UTC.match(value):
            raise MalformedAlertError(f"{name} must be an RFC 3339 timestamp in UTC")
        try:
            parse_utc(value)
        except ValueError:
            raise MalformedAlertError(f"{name} must be a valid date and time") from None
        return value

    def number(
        self, name: str, *, minimum: float | None = None, maximum: float | None = None
    ) -> float:
        value = _as_number(self._required(name))
        if value is None:
            raise MalformedAlertError(f"{name} must be a finite number")
        if minimum is not None and maximum is not None and not minimum <= value <= maximum:
            raise MalformedAlertError(f"{name} must be a number in [{minimum:g}, {maximum:g}]")
        if minimum is not None and value < minimum:
            raise MalformedAlertError(f"{name} must be a number ≥ {minimum:g}")
        return value

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        value = self.text(name)
        if value not in choices:
            raise MalformedAlertError(f"{name} must be one of {', '.join(choices)}")
        return value

    def texts(self, name: str) -> tuple[str, ...]:
        value = self._required(name)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise MalformedAlertError(f"{name} must be a list of strings")
        return tuple(value)

    def numbers(self, name: str) -> tuple[float, ...]:
        """An optional list of finite numbers (absent or null: empty)."""
        value = self._document.get(name)
        if value is None:
            return ()
        numbers = [_as_number(item) for item in value] if isinstance(value, list) else [None]
        if any(number is None for number in numbers):
            raise MalformedAlertError(f"{name} must be a list of finite numbers")
        return tuple(number for number in numbers if number is not None)

    def numbers_by_name(self, name: str) -> dict[str, float]:
        value = self._required(name)
        if not isinstance(value, dict):
            raise MalformedAlertError(f"{name} must be an object of numbers")
        numbers = {key: _as_number(item) for key, item in value.items()}
        if any(number is None for number in numbers.values()):
            raise MalformedAlertError(f"{name} values must be finite numbers")
        return {key: number for key, number in numbers.items() if number is not None}

    def flag(self, name: str) -> bool:
        value = self._document.get(name, False)
        if not isinstance(value, bool):
            raise MalformedAlertError(f"{name} must be true or false")
        return value


def _as_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None
