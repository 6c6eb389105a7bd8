"""Decide: score every transaction's features, and turn the ones at or above their model's
threshold into Alert v1 rows (severity band, reasons, the features the model saw).

The scoring UDF (udfs.scoring) returns one decision per row, ROW(score, threshold,
model_version, reasons, codes); everything after it is SQL generated here from the Alert
v1 contract (contracts.alert), field by field: a field added to the contract without an
expression here fails `alert_insert_sql` by name.
"""

from __future__ import annotations

from contracts.alert import ALERT_ID_HEX_CHARS, ALERT_ID_PREFIX, ALERT_V1, SEVERITIES
from flink_job.features import FEATURE_NAMES
from flink_job.sql import insert_by_name, iso_sql

SCORE_FUNCTION = "score_transactions"
# The features in one float32 binary value: one Arrow column into the scoring UDF, not 38.
FEATURE_VECTOR_FUNCTION = ("feature_vector", "io.fraudstream.scoring.FeatureVector")
SCORED_VIEW = "scored_transactions"
ALERTED_VIEW = "alerted_transactions"


def feature_vector_sql() -> str:
    """Every feature, in FEATURE_NAMES order (the model's), as one float32 vector."""
    features = ", ".join(f"CAST({name} AS DOUBLE)" for name in FEATURE_NAMES)
    return f"{FEATURE_VECTOR_FUNCTION[0]}({features})"


def scored_sql(features: str) -> str:
    """Every row of the `features` view with its `decision` (udfs.scoring.DECISION_TYPE)."""
    return f"SELECT *, {SCORE_FUNCTION}({feature_vector_sql()}) AS decision FROM {features}"


def alerted_sql(scored: str = SCORED_VIEW) -> str:
    """The scored rows whose score reaches their model's threshold."""
    return (
        "SELECT *, decision.score AS score, decision.threshold AS threshold "
        f"FROM {scored} WHERE decision.score >= decision.threshold"
    )


def severity_sql() -> str:
    """contracts.alert.severity in SQL: [threshold, 1] in equal bands, the highest first."""
    band = f"(1.0 - threshold) / {float(len(SEVERITIES))}"
    whens = []
    for level in range(len(SEVERITIES) - 1, 0, -1):
        floor = f"threshold + {band}" if level == 1 else f"threshold + {level} * {band}"
        whens.append(f"WHEN score >= {floor} THEN '{SEVERITIES[level]}'")
    return f"CASE {' '.join(whens)} ELSE '{SEVERITIES[0]}' END"


def features_map_sql() -> str:
    return "MAP[" + ", ".join(f"'{n}', {n}" for n in FEATURE_NAMES) + "]"


def alert_values() -> dict[str, str]:
    """One SQL expression per Alert v1 field, over a row of the alerted view."""
    alert_id = (
        f"SUBSTR(SHA256(CONCAT('{ALERT_ID_PREFIX}', transaction_id)), 1, {ALERT_ID_HEX_CHARS})"
    )
    return {
        "schema": f"'{ALERT_V1.schema}'",
        "alert_id": alert_id,
        "transaction_id": "transaction_id",
        "event_time": iso_sql("et"),
        "card_id": "card_id",
        "terminal_id": "terminal_id",
        "amount": "amount",
        "currency": "currency",
        "merchant_category": "merchant_category",
        "country": "country",
        "channel": "channel",
        "score": "score",
        "threshold": "threshold",
        "severity": severity_sql(),
        "model_version": "decision.model_version",
        "reasons": "decision.reasons",
        "reason_codes": "decision.codes",
        "reason_contributions": "decision.contributions",
        "features": features_map_sql(),
        "late": "late",
        "ingested_at": iso_sql("ingested_at"),
        "detected_at": iso_sql("CURRENT_TIMESTAMP"),
    }


def alert_insert_sql(sink: str = "alerts_sink", alerted: str = ALERTED_VIEW) -> str:
    """INSERT INTO `sink` every alerted row as Alert v1, column by column by name."""
    return insert_by_name(sink, ALERT_V1, alert_values(), alerted)
