"""Transaction v1: a payment, sent by producers to the `transactions` stream.

The Java parser (io.fraudstream.parsing.TransactionParser) applies these rules in the JVM;
flink_job/parsing.py documents their order, tests/test_contracts.py holds its field lists to
this table.
"""

from __future__ import annotations

from contracts.fields import NUMBER, STRING, TIMESTAMP, Contract, Field

TRANSACTION_V1 = Contract(
    title="Transaction v1",
    schema=None,
    travels="stream `transactions`",
    fields=(
        Field("transaction_id", STRING, True, "unique per payment of a card at a terminal"),
        Field(
            "event_time",
            TIMESTAMP,
            True,
            "when the payment happened; within `transactions.max_future_ms` after and "
            "`transactions.max_age_ms` before its arrival on Kinesis",
        ),
        Field("card_id", STRING, True, "a token, never a card number"),
        Field("terminal_id", STRING, True, ""),
        Field(
            "amount",
            NUMBER,
            True,
            "finite, ≥ 0 (0 is an account verification), ≤ `transactions.max_amount`",
        ),
        Field("currency", STRING, True, "three capital letters (ISO 4217)"),
        Field("merchant_category", STRING, False, "MCC"),
        Field("country", STRING, False, "ISO 3166 alpha-2"),
        Field("lat", NUMBER, False, "terminal latitude, -90 to 90"),
        Field("lon", NUMBER, False, "terminal longitude, -180 to 180"),
        Field("channel", STRING, False, "`pos`, `ecom`, `atm`"),
        Field("device_id", STRING, False, ""),
    ),
)

# Every string field is refused when it holds a card number (contracts/card_number.py);
# unknown fields are ignored; a field of the wrong JSON type is refused.
MAX_RECORD_BYTES = 16 * 1024
