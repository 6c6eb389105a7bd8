"""deadletter.v1: a record refused at a boundary, with the reason, kept so nothing is lost.

The job writes one for every transaction it cannot accept (stream `transactions-dlq`); the
fan-out Lambda one for every alert it cannot read (its SQS dead-letter queue). Payloads
have every card number masked (contracts/card_number.py)."""

from __future__ import annotations

from contracts.fields import Contract, table

SCHEMA = "deadletter.v1"
ENCODINGS = ("utf-8", "base64")
MAX_PAYLOAD_BYTES = 64 * 1024

DEADLETTER_V1 = Contract(
    "Dead-letter record",
    SCHEMA,
    "stream `transactions-dlq` (the job), the fan-out's SQS queue",
    table(
        f"""
        schema            | string    | yes | `{SCHEMA}`
        reason            | string    | yes | the first rule the record broke, naming the field
        payload           | string    | yes | the record as received, card numbers masked
        payload_encoding  | string    | yes | {" or ".join(f"`{e}`" for e in ENCODINGS)}
        payload_bytes     | integer   | no  | the job's: the record's length
        payload_sha256    | string    | no  | the job's: hex sha256 of the record
        payload_truncated | boolean   | no  | the job's: the payload was cut to
                          |           |     | {MAX_PAYLOAD_BYTES // 1024} KiB
        source            | object    | no  | the Lambda's: eventSourceARN, eventID, sequenceNumber,
                          |           |     | partitionKey
        ingested_at       | timestamp | yes | its arrival on Kinesis
        detected_at       | timestamp | yes | when it was refused
        """
    ),
)
