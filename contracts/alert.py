"""Alert v1: one suspicious transaction, written by the job to the `alerts` stream and
fanned out to the lake, the alerts table and e-mail; and its severity bands."""

from __future__ import annotations

from contracts.fields import (
    BOOLEAN,
    NUMBER,
    NUMBERS_BY_NAME,
    STRING,
    STRINGS,
    TIMESTAMP,
    Contract,
    Field,
)

SCHEMA = "alert.v1"
SEVERITIES = ("low", "medium", "high")
ALERT_ID_PREFIX = f"{SCHEMA}:"  # alert_id = first 32 hex of sha256(prefix + transaction_id)
ALERT_ID_HEX_CHARS = 32

ALERT_V1 = Contract(
    title="Alert v1",
    schema=SCHEMA,
    travels="stream `alerts`",
    fields=(
        Field("schema", STRING, True, f"`{SCHEMA}`"),
        Field(
            "alert_id",
            STRING,
            True,
            f"{ALERT_ID_HEX_CHARS} lowercase hex: sha256 of `{ALERT_ID_PREFIX}` + "
            "transaction_id, so redeliveries de-duplicate",
        ),
        Field("transaction_id", STRING, True, "Transaction v1's"),
        Field("event_time", TIMESTAMP, True, "Transaction v1's, in milliseconds"),
        Field("card_id", STRING, True, "Transaction v1's"),
        Field("terminal_id", STRING, True, "Transaction v1's"),
        Field("amount", NUMBER, True, "Transaction v1's (≥ 0)"),
        Field("currency", STRING, True, "Transaction v1's"),
        Field("merchant_category", STRING, False, "Transaction v1's, may be null"),
        Field("country", STRING, False, "Transaction v1's, may be null"),
        Field("channel", STRING, False, "Transaction v1's, may be null"),
        Field("score", NUMBER, True, "fraud probability, 0 to 1"),
        Field("threshold", NUMBER, True, "the model's threshold, 0 to 1; score ≥ threshold"),
        Field(
            "severity",
            STRING,
            True,
            " / ".join(f"`{s}`" for s in SEVERITIES)
            + ": [threshold, 1] split into three equal bands",
        ),
        Field("model_version", STRING, True, "the model that scored it (manifest `version`)"),
        Field("reasons", STRINGS, True, "human readable, most important first"),
        Field("reason_codes", STRINGS, True, "the same reasons, machine readable"),
        Field("features", NUMBERS_BY_NAME, True, "the feature values the model saw"),
        Field("late", BOOLEAN, False, "true when the transaction came behind the watermark"),
        Field("ingested_at", TIMESTAMP, True, "its arrival on Kinesis"),
        Field("detected_at", TIMESTAMP, True, "when the job decided (latency is visible)"),
    ),
)


def severity_floor(band: int, threshold: float) -> float:
    """The lowest score of severity band `band` (0 low, 1 medium, 2 high): the bands split
    [threshold, 1] into len(SEVERITIES) equal parts."""
    return threshold + band * (1.0 - threshold) / len(SEVERITIES)


def severity(score: float, threshold: float) -> str:
    """The severity of an alert's score (the job computes the same in SQL)."""
    for band in range(len(SEVERITIES) - 1, 0, -1):
        if score >= severity_floor(band, threshold):
            return SEVERITIES[band]
    return SEVERITIES[0]
