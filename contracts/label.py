"""Label v1: the truth about a transaction (a chargeback or an analyst's verdict), sent to
the `labels` stream by the issuer's systems and the analyst API."""

from __future__ import annotations

from contracts.fields import Contract, table

LABELS = ("fraud", "legit")
SOURCES = ("chargeback", "analyst")

LABEL_V1 = Contract(
    "Label v1",
    None,
    "stream `labels`",
    table(
        f"""
        transaction_id | string    | yes | the labelled transaction
        card_id        | string    | yes | the transaction's card token
        terminal_id    | string    | yes | the transaction's terminal
        event_time     | timestamp | yes | the transaction's event time
        label          | string    | yes | {" or ".join(f"`{v}`" for v in LABELS)}
        source         | string    | yes | {" or ".join(f"`{v}`" for v in SOURCES)}
        reported_at    | timestamp | yes | when the truth was known; not later than the label's
                       |           |     | arrival + `labels.max_future_ms`
        """
    ),
)
