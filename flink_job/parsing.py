"""Parse and validate the contracts' records in the JVM, so that no event crosses into
Python to be read.

Transaction v1 is read once per record by a Java table function in the connector jar
(io.fraudstream.parsing.TransactionParser, `parse_transaction`): one row per record with
the typed fields, or the reason the record is malformed. The first failing rule, in this
order, names the reason:

1. the record is empty, larger than 16 KiB, not valid UTF-8, not a JSON object, or has a
   field twice;
2. a required field (transaction_id, event_time, card_id, terminal_id, amount, currency)
   is absent, null, not a scalar or blank;
3. a field has the wrong JSON type (strings: ids, currency, category, country, channel,
   device; numbers: amount, lat, lon);
4. event_time is not RFC 3339 in UTC (UTC_TIMESTAMP), or not a real date and time;
5. event_time is later than the record's Kinesis arrival + `transactions.max_future_ms`, or
   earlier than its arrival - `transactions.max_age_ms` (records read from a file have no
   arrival: training applies neither rule);
6. amount is not finite, negative, or above `transactions.max_amount` (zero is an account
   verification and is valid); currency is not three capital letters; a string field
   contains a card number (contracts/card_number.py); lat/lon out of range;
7. the same transaction (card, terminal, transaction_id) arrived before at another time,
   within the last 10 minutes: a producer's retry (a record read twice from Kinesis after a
   restore has the same arrival time and is no duplicate; files are not checked).

A record with a reason goes to the dead-letter stream; one without is a valid transaction.
The sources' rowtime reads the same parse (`transaction_event_time`): only a valid record's
event time can move the watermark. Labels are few and are read with SQL's JSON functions;
a label reported later than its arrival + `labels.max_future_ms` is ignored, and only a
valid label's reported time moves the labels' watermark.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.label import LABEL_V1, LABELS
from contracts.transaction import TRANSACTION_V1
from flink_job.sql import EPOCH_SQL, NO_ARRIVAL_SQL, interval_sql, literal_sql

UTC_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)$"

PARSE_FUNCTION = ("parse_transaction", "io.fraudstream.parsing.TransactionParser")
EVENT_TIME_FUNCTION = ("transaction_event_time", "io.fraudstream.parsing.EventTime")
DEADLETTER_FUNCTION = ("deadletter_payload", "io.fraudstream.parsing.DeadLetterPayload")


@dataclass(frozen=True)
class ArrivalRules:
    """What a record's times and amount may be, relative to its arrival on Kinesis
    (`arrival_sql`, a TIMESTAMP_LTZ(3) expression of the source). A file has no arrival:
    its default rules check nothing but the contract's fixed rules."""

    arrival_sql: str = NO_ARRIVAL_SQL
    max_future_ms: int | None = None
    max_age_ms: int | None = None
    max_amount: float | None = None
    labels_max_future_ms: int | None = None

    def arguments_sql(self) -> str:
        """The parser's and the rowtime's arguments after the payload (the same text in
        both, so the rowtime's parse is reused by the parser)."""
        return ", ".join(
            (
                self.arrival_sql,
                literal_sql(self.max_future_ms, "BIGINT"),
                literal_sql(self.max_age_ms, "BIGINT"),
                literal_sql(self.max_amount, "DOUBLE"),
            )
        )


def parsed_sql(source: str, rules: ArrivalRules) -> str:
    """Every record of `source` (payload, ingested_at, et) with `reject_reason` and the
    typed Transaction v1 columns (NULL when rejected), the JSON read once."""
    columns = ", ".join(f"p.{name}" for name in TRANSACTION_V1.names() if name != "event_time")
    call = f"{PARSE_FUNCTION[0]}(payload, {rules.arguments_sql()})"
    return (
        f"SELECT s.payload, s.ingested_at, s.et, p.reject_reason, {columns} "
        f"FROM {source} AS s, LATERAL TABLE({call}) AS p"
    )


def _missing_rule(name: str) -> str:
    value = f"JSON_VALUE(payload, '$.{name}')"
    return f"WHEN {value} IS NULL OR TRIM({value}) = '' THEN 'missing required field {name}'"


def rowtime_sql(rules: ArrivalRules, payload_sql: str = "payload") -> str:
    """Event time for the watermark: a valid record's event_time (the whole record checked,
    its arrival bounds included); any other record gets the epoch and never advances it."""
    call = f"{EVENT_TIME_FUNCTION[0]}({payload_sql}, {rules.arguments_sql()})"
    return f"COALESCE({call}, {EPOCH_SQL})"


def deadletter_payload_sql() -> str:
    """ROW(payload, payload_encoding, payload_bytes, payload_sha256, payload_truncated): the
    record cut to 64 KiB with card numbers masked, base64 unless UTF-8, its length and hash."""
    return f"{DEADLETTER_FUNCTION[0]}(payload)"


def _utc_timestamp_sql(field: str) -> str:
    text = f"JSON_VALUE(payload, '$.{field}')"
    local = f"REGEXP_REPLACE(REPLACE({text}, 'T', ' '), '(Z|\\+00:00)$', '')"
    return f"CAST(TO_TIMESTAMP({local}) AS TIMESTAMP(3))"


def label_reject_reason_sql(arrival_sql: str = NO_ARRIVAL_SQL, max_future_ms: int = 0) -> str:
    """A CASE expression over a Label v1 `payload` that is NULL for a valid label. With an
    arrival, a label reported later than it + `max_future_ms` is rejected."""
    arrival = f"CAST({arrival_sql} AS TIMESTAMP(3))"
    future = (
        f"WHEN {arrival} IS NOT NULL AND {_utc_timestamp_sql('reported_at')} > "
        f"{arrival} + {interval_sql(max_future_ms)} "
        "THEN 'reported_at is later than the arrival of the label + labels.max_future_ms'"
    )
    rules = [
        "WHEN payload IS NULL OR payload IS NOT JSON OBJECT THEN 'record is not a JSON object'"
    ]
    rules += [_missing_rule(name) for name in LABEL_V1.required_names()]
    rules += [
        f"WHEN {_utc_timestamp_sql('event_time')} IS NULL THEN 'event_time is not a valid time'",
        f"WHEN {_utc_timestamp_sql('reported_at')} IS NULL THEN 'reported_at is not a valid time'",
        f"WHEN JSON_VALUE(payload, '$.label') NOT IN ({', '.join(repr(v) for v in LABELS)}) "
        f"THEN 'label must be {' or '.join(LABELS)}'",
        future,
    ]
    return "CASE " + " ".join(rules) + " ELSE CAST(NULL AS STRING) END"


def label_times_sql(
    delay_ms_interval: str, arrival_sql: str = NO_ARRIVAL_SQL, max_future_ms: int = 0
) -> tuple[str, str]:
    """(usable-from time, reported time) of a label, both TIMESTAMP(3).

    A label counts for its terminal's risk from its transaction's event time plus the
    delay: that is the label's event time in the job (its rowtime), never NULL. The reported
    time is NULL for an invalid label (the arrival rule included), which is then never
    usable (`reported <= et` is not true)."""
    usable = f"COALESCE({_utc_timestamp_sql('event_time')}, {EPOCH_SQL}) + {delay_ms_interval}"
    valid = f"({label_reject_reason_sql(arrival_sql, max_future_ms)}) IS NULL"
    reported = f"CASE WHEN {valid} THEN {_utc_timestamp_sql('reported_at')} END"
    return usable, reported
