"""Transaction v1: a payment, sent by producers to the `transactions` stream.

The Java parser (io.fraudstream.parsing.TransactionParser) applies these rules in the JVM;
flink_job/parsing.py documents their order, tests/test_contracts.py holds its field lists to
this table.
"""

from __future__ import annotations

from contracts.fields import Contract, table

TRANSACTION_V1 = Contract(
    "Transaction v1",
    None,
    "stream `transactions`",
    table(
        """
        transaction_id    | string    | yes | unique per payment of a card at a terminal
        event_time        | timestamp | yes | when the payment happened; within
                          |           |     | `transactions.max_future_ms` after and
                          |           |     | `transactions.max_age_ms` before its arrival on
                          |           |     | Kinesis
        card_id           | string    | yes | a token, never a card number
        terminal_id       | string    | yes |
        amount            | number    | yes | finite, ≥ 0 (0 is an account verification),
                          |           |     | ≤ `transactions.max_amount`
        currency          | string    | yes | three capital letters (ISO 4217)
        merchant_category | string    | no  | MCC
        country           | string    | no  | ISO 3166 alpha-2
        lat               | number    | no  | terminal latitude, -90 to 90
        lon               | number    | no  | terminal longitude, -180 to 180
        channel           | string    | no  | `pos`, `ecom`, `atm`
        device_id         | string    | no  |
        """
    ),
)

# Every string field is refused when it holds a card number (contracts/card_number.py);
# unknown fields are ignored; a field of the wrong JSON type is refused.
MAX_RECORD_BYTES = 16 * 1024
