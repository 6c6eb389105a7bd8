"""deadletter.v1: a record refused at a boundary, with the reason, kept so nothing is lost.

The job writes one for every transaction it cannot accept (stream `transactions-dlq`); the
fan-out Lambda one for every alert it cannot read (its SQS dead-letter queue). Payloads
have every card number masked (contracts/card_number.py)."""

from __future__ import annotations

from contracts.fields import BOOLEAN, INTEGER, OBJECT, STRING, TIMESTAMP, Contract, Field

SCHEMA = "deadletter.v1"
ENCODINGS = ("utf-8", "base64")
MAX_PAYLOAD_BYTES = 64 * 1024

DEADLETTER_V1 = Contract(
    title="Dead-letter record",
    schema=SCHEMA,
    travels="stream `transactions-dlq` (the job), the fan-out's SQS queue",
    fields=(
        Field("schema", STRING, True, f"`{SCHEMA}`"),
        Field("reason", STRING, True, "the first rule the record broke, naming the field"),
        Field("payload", STRING, True, "the record as received, card numbers masked"),
        Field("payload_encoding", STRING, True, " or ".join(f"`{e}`" for e in ENCODINGS)),
        Field("payload_bytes", INTEGER, False, "the job's: the record's length"),
        Field("payload_sha256", STRING, False, "the job's: hex sha256 of the record"),
        Field(
            "payload_truncated",
            BOOLEAN,
            False,
            f"the job's: the payload was cut to {MAX_PAYLOAD_BYTES // 1024} KiB",
        ),
        Field(
            "source",
            OBJECT,
            False,
            "the Lambda's: eventSourceARN, eventID, sequenceNumber, partitionKey",
        ),
        Field("ingested_at", TIMESTAMP, True, "its arrival on Kinesis"),
        Field("detected_at", TIMESTAMP, True, "when it was refused"),
    ),
)
