"""Parse and validate Transaction v1 in SQL, so that no event crosses into Python to be read.

Each rule yields a reason; the first failing rule names the record's `reject_reason`.
A record with a reason goes to the dead-letter stream; one without is a valid transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

# 13 to 19 digits, optionally grouped by spaces or dashes: the shape of a card number (PAN).
PAN_PATTERN = r"(?:\d[ -]?){12,18}\d"
PAN_MASK = "[PAN REDACTED]"
UTC_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)$"


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "string" or "number"
    required: bool


TRANSACTION_V1: tuple[Field, ...] = (
    Field("transaction_id", "string", True),
    Field("event_time", "string", True),
    Field("card_id", "string", True),
    Field("terminal_id", "string", True),
    Field("amount", "number", True),
    Field("currency", "string", True),
    Field("merchant_category", "string", False),
    Field("country", "string", False),
    Field("lat", "number", False),
    Field("lon", "number", False),
    Field("channel", "string", False),
    Field("device_id", "string", False),
)


def _wrapped(name: str) -> str:
    """The field's JSON text in a one-element array: '["x"]' for strings, '[1.5]' for numbers."""
    return f"JSON_QUERY(payload, '$.{name}' WITH CONDITIONAL ARRAY WRAPPER)"


def _number(name: str) -> str:
    """A numeric field as DOUBLE, NULL when absent or not numeric (never an error)."""
    return f"TRY_CAST(JSON_VALUE(payload, '$.{name}') AS DOUBLE)"


def _type_rule(f: Field) -> str:
    w = _wrapped(f.name)
    present = f"{w} IS NOT NULL AND {w} <> '[null]'"
    if f.kind == "string":
        wrong = f"({present} AND {w} NOT LIKE '[\"%')"
        return f"WHEN {wrong} THEN '{f.name} must be a string'"
    number = _number(f.name)
    wrong = f"({present} AND ({w} LIKE '[\"%' OR {number} IS NULL))"
    return f"WHEN {wrong} THEN '{f.name} must be a number'"


def _missing_rule(f: Field) -> str:
    value = f"JSON_VALUE(payload, '$.{f.name}')"
    return f"WHEN {value} IS NULL OR TRIM({value}) = '' THEN 'missing required field {f.name}'"


def reject_reason_sql() -> str:
    """A CASE expression over `payload` that is NULL for a valid Transaction v1."""
    rules = [
        "WHEN payload IS NULL OR payload IS NOT JSON OBJECT THEN 'record is not a JSON object'"
    ]
    rules += [_missing_rule(f) for f in TRANSACTION_V1 if f.required]
    rules += [_type_rule(f) for f in TRANSACTION_V1]
    rules += [
        "WHEN NOT REGEXP(JSON_VALUE(payload, '$.event_time'), "
        f"'{UTC_TIMESTAMP}') THEN 'event_time must be RFC 3339 in UTC, "
        "e.g. 2026-11-01T12:00:00.000Z'",
        f"WHEN {event_time_sql()} IS NULL THEN 'event_time is not a valid date and time'",
        f"WHEN {_number('amount')} <= 0 THEN 'amount must be a number > 0'",
        "WHEN NOT REGEXP(JSON_VALUE(payload, '$.currency'), '^[A-Z]{3}$') "
        "THEN 'currency must be a 3-letter ISO 4217 code'",
        f"WHEN REGEXP(JSON_VALUE(payload, '$.card_id'), '^{PAN_PATTERN}$') "
        "THEN 'card_id looks like a card number; send a token instead'",
        f"WHEN ABS({_number('lat')}) > 90 OR ABS({_number('lon')}) > 180 "
        "THEN 'lat/lon out of range'",
    ]
    return "CASE " + " ".join(rules) + " ELSE CAST(NULL AS STRING) END"


def event_time_sql() -> str:
    """`event_time` as TIMESTAMP(3) in UTC (the session time zone is UTC), or NULL."""
    text = "JSON_VALUE(payload, '$.event_time')"
    local = f"REGEXP_REPLACE(REPLACE({text}, 'T', ' '), '(Z|\\+00:00)$', '')"
    return f"CAST(TO_TIMESTAMP({local}) AS TIMESTAMP(3))"


def rowtime_sql() -> str:
    """Event time for the watermark: invalid records get the epoch and never advance it."""
    return f"COALESCE({event_time_sql()}, TIMESTAMP '1970-01-01 00:00:00.000')"


def redacted_payload_sql() -> str:
    """The payload as received, with anything shaped like a card number masked."""
    return f"REGEXP_REPLACE(payload, '{PAN_PATTERN}', '{PAN_MASK}')"


def typed_columns_sql() -> str:
    """The valid transaction's typed columns, read from `payload`."""
    cols = []
    for f in TRANSACTION_V1:
        if f.name == "event_time":
            continue
        if f.kind == "number":
            cols.append(f"{_number(f.name)} AS {f.name}")
        else:
            cols.append(f"JSON_VALUE(payload, '$.{f.name}') AS {f.name}")
    return ",\n  ".join(cols)


LABEL_V1: tuple[Field, ...] = (
    Field("transaction_id", "string", True),
    Field("card_id", "string", True),
    Field("terminal_id", "string", True),
    Field("event_time", "string", True),
    Field("label", "string", True),
    Field("source", "string", True),
    Field("reported_at", "string", True),
)


def _utc_timestamp_sql(field: str) -> str:
    text = f"JSON_VALUE(payload, '$.{field}')"
    local = f"REGEXP_REPLACE(REPLACE({text}, 'T', ' '), '(Z|\\+00:00)$', '')"
    return f"CAST(TO_TIMESTAMP({local}) AS TIMESTAMP(3))"


def label_reject_reason_sql() -> str:
    """A CASE expression over a Label v1 `payload` that is NULL for a valid label."""
    rules = [
        "WHEN payload IS NULL OR payload IS NOT JSON OBJECT THEN 'record is not a JSON object'"
    ]
    rules += [_missing_rule(f) for f in LABEL_V1 if f.required]
    rules += [
        f"WHEN {_utc_timestamp_sql('event_time')} IS NULL THEN 'event_time is not a valid time'",
        f"WHEN {_utc_timestamp_sql('reported_at')} IS NULL THEN 'reported_at is not a valid time'",
        "WHEN JSON_VALUE(payload, '$.label') NOT IN ('fraud', 'legit') "
        "THEN 'label must be fraud or legit'",
    ]
    return "CASE " + " ".join(rules) + " ELSE CAST(NULL AS STRING) END"


def label_times_sql(delay_ms_interval: str) -> tuple[str, str]:
    """(usable-from time, reported time) of a label, both TIMESTAMP(3), never NULL.

    A label counts for its terminal's risk from its transaction's event time plus the
    delay: that is the label's event time in the job (its rowtime)."""
    epoch = "TIMESTAMP '1970-01-01 00:00:00.000'"
    usable = f"COALESCE({_utc_timestamp_sql('event_time')}, {epoch}) + {delay_ms_interval}"
    return usable, f"COALESCE({_utc_timestamp_sql('reported_at')}, {epoch})"
