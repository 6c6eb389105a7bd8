"""Parse and validate the contracts' records in the JVM, so that no event crosses into
Python to be read.

Transaction v1 is read once per record by a Java table function in the connector jar
(io.fraudstream.parsing.TransactionParser, `parse_transaction`): one row per record with
the typed fields, or the reason the record is malformed. The first failing rule, in this
order, names the reason:

1. the record is not a JSON object;
2. a required field (transaction_id, event_time, card_id, terminal_id, amount, currency)
   is absent, null, not a scalar or blank;
3. a field has the wrong JSON type (strings: ids, currency, category, country, channel,
   device; numbers: amount, lat, lon);
4. event_time is not RFC 3339 in UTC (UTC_TIMESTAMP), or not a real date and time;
5. amount is not > 0; currency is not three capital letters; card_id looks like a card
   number (PAN_PATTERN); lat/lon out of range.

A record with a reason goes to the dead-letter stream; one without is a valid transaction.
Labels are few and are read with SQL's JSON functions.
"""

from __future__ import annotations

from dataclasses import dataclass

# 13 to 19 digits, optionally grouped by spaces or dashes: the shape of a card number (PAN).
PAN_PATTERN = r"(?:\d[ -]?){12,18}\d"
PAN_MASK = "[PAN REDACTED]"
UTC_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)$"

PARSE_FUNCTION = ("parse_transaction", "io.fraudstream.parsing.TransactionParser")
EVENT_TIME_FUNCTION = ("transaction_event_time", "io.fraudstream.parsing.EventTime")


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


def parsed_sql(source: str) -> str:
    """Every record of `source` (payload, ingested_at, et) with `reject_reason` and the
    typed Transaction v1 columns (NULL when rejected), the JSON read once."""
    columns = ", ".join(f"p.{f.name}" for f in TRANSACTION_V1 if f.name != "event_time")
    return (
        f"SELECT s.payload, s.ingested_at, s.et, p.reject_reason, {columns} "
        f"FROM {source} AS s, LATERAL TABLE({PARSE_FUNCTION[0]}(s.payload)) AS p"
    )


def _missing_rule(f: Field) -> str:
    value = f"JSON_VALUE(payload, '$.{f.name}')"
    return f"WHEN {value} IS NULL OR TRIM({value}) = '' THEN 'missing required field {f.name}'"


def rowtime_sql() -> str:
    """Event time for the watermark (a Java function reading only event_time): invalid
    records get the epoch and never advance it."""
    return f"COALESCE({EVENT_TIME_FUNCTION[0]}(payload), TIMESTAMP '1970-01-01 00:00:00.000')"


def redacted_payload_sql() -> str:
    """The payload as received, with anything shaped like a card number masked."""
    return f"REGEXP_REPLACE(payload, '{PAN_PATTERN}', '{PAN_MASK}')"


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
