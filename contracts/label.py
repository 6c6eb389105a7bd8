"""Label v1: the truth about a transaction (a chargeback or an analyst's verdict), sent to
the `labels` stream by the issuer's systems and the analyst API."""

from __future__ import annotations

from contracts.fields import STRING, TIMESTAMP, Contract, Field

LABELS = ("fraud", "legit")
SOURCES = ("chargeback", "analyst")

LABEL_V1 = Contract(
    title="Label v1",
    schema=None,
    travels="stream `labels`",
    fields=(
        Field("transaction_id", STRING, True, "the labelled transaction"),
        Field("card_id", STRING, True, "the transaction's card token"),
        Field("terminal_id", STRING, True, "the transaction's terminal"),
        Field("event_time", TIMESTAMP, True, "the transaction's event time"),
        Field("label", STRING, True, " or ".join(f"`{v}`" for v in LABELS)),
        Field("source", STRING, True, " or ".join(f"`{v}`" for v in SOURCES)),
        Field(
            "reported_at",
            TIMESTAMP,
            True,
            "when the truth was known; not later than the label's arrival + `labels.max_future_ms`",
        ),
    ),
)
