"""Alert v1: one suspicious transaction, written by the job to the `alerts` stream and
fanned out to the lake, the alerts table and e-mail; and its severity bands."""

from __future__ import annotations

from contracts.fields import Contract, table

SCHEMA = "alert.v1"
SEVERITIES = ("low", "medium", "high")
ALERT_ID_PREFIX = f"{SCHEMA}:"  # alert_id = first 32 hex of sha256(prefix + transaction_id)
ALERT_ID_HEX_CHARS = 32

ALERT_V1 = Contract(
    "Alert v1",
    SCHEMA,
    "stream `alerts`",
    table(
        f"""
        schema            | string            | yes | `{SCHEMA}`
        alert_id          | string            | yes | {ALERT_ID_HEX_CHARS} lowercase hex: sha256 of
                          |                   |     | `{ALERT_ID_PREFIX}` + transaction_id, so
                          |                   |     | redeliveries de-duplicate
        transaction_id    | string            | yes | Transaction v1's
        event_time        | timestamp         | yes | Transaction v1's, in milliseconds
        card_id           | string            | yes | Transaction v1's
        terminal_id       | string            | yes | Transaction v1's
        amount            | number            | yes | Transaction v1's (≥ 0)
        currency          | string            | yes | Transaction v1's
        merchant_category | string            | no  | Transaction v1's, may be null
        country           | string            | no  | Transaction v1's, may be null
        channel           | string            | no  | Transaction v1's, may be null
        score             | number            | yes | fraud probability, 0 to 1
        threshold         | number            | yes | the model's threshold, 0 to 1;
                          |                   |     | score ≥ threshold unless an alert rule
                          |                   |     | raised the alert (a `RULE_` reason code)
        severity          | string            | yes | {" / ".join(f"`{s}`" for s in SEVERITIES)}:
                          |                   |     | [threshold, 1] split into three equal
                          |                   |     | bands; the highest of that and the
                          |                   |     | matched alert rules' severities
        model_version     | string            | yes | the model that scored it (manifest `version`)
        reasons           | list of strings   | yes | human readable, most important first
        reason_codes      | list of strings   | yes | the same reasons, machine readable:
                          |                   |     | `RULE_<name>` for each matched alert or
                          |                   |     | tag rule first, then the model's features
        reason_contributions | list of numbers | no | each reason's share of the score, in the
                          |                   |     | same order: the score minus the score with
                          |                   |     | that feature at its baseline (0 for a rule)
        features          | object of numbers | yes | the feature values the model saw
        late              | boolean           | no  | true when the transaction arrived behind
                          |                   |     | the watermark: scored on arrival all the
                          |                   |     | same, with what its card and terminal held
        ingested_at       | timestamp         | yes | its arrival on Kinesis
        detected_at       | timestamp         | yes | when the job decided (latency is visible)
        """
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
