"""Decide: score every transaction's features, record every decision as Decision v1 (the
decision log, non-alerts sampled), and turn the ones at or above their model's threshold
into Alert v1 rows (severity band, reasons, the features the model saw).

The scoring UDF (udfs.scoring) returns one decision per row, ROW(score, threshold,
model_version, reasons, codes, contributions, alerted, severity, ruleset_version,
rule_hits, shadow_rule_hits, shadow_scores): the model's score and the analysts' rules
(udfs.rulesets) decided in one batch, and the shadow models' scores (udfs.shadows), which
only the decision log reads. Everything after it is SQL generated here from the Alert v1
and Decision v1 contracts (contracts.alert, contracts.decision), field by field: a field
added to a contract without an expression here fails its insert by name. Both sinks read
the one decided view: one scoring call per transaction feeds the alert and the decision.
"""

from __future__ import annotations

from contracts.alert import ALERT_ID_HEX_CHARS, ALERT_ID_PREFIX, ALERT_V1
from contracts.decision import (
    DECISION_ID_HEX_CHARS,
    DECISION_ID_PREFIX,
    DECISION_V1,
    SAMPLE_HEX_CHARS,
    SAMPLE_SPACE,
    sample_bound,
    sample_weight,
)
from flink_job.features import FEATURE_NAMES
from flink_job.sql import insert_by_name, iso_sql, literal_sql
from udfs.scoring import TRANSACTION_INPUTS

SCORE_FUNCTION = "score_transactions"
# The features in one float32 binary value: one Arrow column into the scoring UDF, not 38.
FEATURE_VECTOR_FUNCTION = ("feature_vector", "io.fraudstream.scoring.FeatureVector")
SCORED_VIEW = "scored_transactions"
DECIDED_VIEW = "decided_transactions"
ALERTED_VIEW = "alerted_transactions"


def feature_vector_sql() -> str:
    """Every feature, in FEATURE_NAMES order (the model's), as one float32 vector."""
    features = ", ".join(f"CAST({name} AS DOUBLE)" for name in FEATURE_NAMES)
    return f"{FEATURE_VECTOR_FUNCTION[0]}({features})"


def scored_sql(features: str) -> str:
    """Every row of the `features` view with its `decision` (udfs.scoring.DECISION_TYPE):
    the feature vector, then the transaction fields the rules may read."""
    arguments = ", ".join((feature_vector_sql(), *TRANSACTION_INPUTS))
    return f"SELECT *, {SCORE_FUNCTION}({arguments}) AS decision FROM {features}"


def decision_id_sql() -> str:
    """contracts.decision.decision_id in SQL, over a row's transaction_id."""
    return (
        f"SUBSTR(SHA256(CONCAT('{DECISION_ID_PREFIX}', transaction_id)), 1, "
        f"{DECISION_ID_HEX_CHARS})"
    )


def decided_sql(scored: str = SCORED_VIEW) -> str:
    """Every scored row with its score, threshold, outcome (`alerted`: the score reached
    the threshold or an alert rule matched, and no suppress rule decided otherwise; the UDF
    decides it) and `decision_id`."""
    return (
        "SELECT *, decision.score AS score, decision.threshold AS threshold, "
        f"decision.alerted AS alerted, {decision_id_sql()} AS decision_id FROM {scored}"
    )


def fresh_sql(since_ms: int) -> str:
    """Whether a row arrived on Kinesis at or after `outputs.since_ms`. A job restored from a
    bootstrap reads the live streams from their start, and the application it replaces
    alerted on what arrived before: those rows update the state but alert no one again.
    Their decisions are logged again, with the same decision_id (the log's reader keeps
    one), as are their dead letters: filtering those sinks would add operators and move
    the state of existing ones (tests/test_savepoint_compatibility.py). The same expression
    whatever the value, so that the operators do not depend on it."""
    return f"ingested_at >= TO_TIMESTAMP_LTZ({since_ms}, 3)"


def alerted_sql(decided: str = DECIDED_VIEW, since_ms: int = 0) -> str:
    """The decided rows that alert, among those arrived since `since_ms`."""
    return f"SELECT * FROM {decided} WHERE alerted AND {fresh_sql(since_ms)}"


def kept_sql(sample_rate: float) -> str:
    """contracts.decision.kept in SQL: every alert, and the non-alerts whose decision_id's
    first hex digits are below the rate's bound (all of them at rate 1)."""
    bound = sample_bound(sample_rate)
    if bound >= SAMPLE_SPACE:
        return "TRUE"
    key = f"SUBSTR(decision_id, 1, {SAMPLE_HEX_CHARS})"
    return f"(alerted OR {key} < '{bound:0{SAMPLE_HEX_CHARS}x}')"


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
        "severity": "decision.severity",
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


def decision_values(sample_rate: float) -> dict[str, str]:
    """One SQL expression per Decision v1 field, over a row of the decided view."""
    return {
        "schema": f"'{DECISION_V1.schema}'",
        "decision_id": "decision_id",
        "transaction_id": "transaction_id",
        "event_time": iso_sql("et"),
        "card_id": "card_id",
        "terminal_id": "terminal_id",
        "amount": "amount",
        "currency": "currency",
        "merchant_category": "merchant_category",
        "country": "country",
        "channel": "channel",
        "features": features_map_sql(),
        "model_version": "decision.model_version",
        "score": "score",
        "threshold": "threshold",
        "shadow_scores": "decision.shadow_scores",
        "alerted": "alerted",
        "severity": "decision.severity",
        "reasons": "decision.reasons",
        "reason_codes": "decision.codes",
        "ruleset_version": "decision.ruleset_version",
        "rule_hits": "decision.rule_hits",
        "shadow_rule_hits": "decision.shadow_rule_hits",
        "late": "late",
        "ingested_at": iso_sql("ingested_at"),
        "decided_at": iso_sql("CURRENT_TIMESTAMP"),
        "sample_weight": f"CASE WHEN alerted THEN {literal_sql(1.0, 'DOUBLE')} "
        f"ELSE {literal_sql(sample_weight(False, sample_rate), 'DOUBLE')} END",
    }


def decision_insert_sql(
    sample_rate: float, sink: str = "decisions_sink", decided: str = DECIDED_VIEW
) -> str:
    """INSERT INTO `sink` every decided row kept at `sample_rate` as Decision v1."""
    kept = f"(SELECT * FROM {decided} WHERE {kept_sql(sample_rate)})"
    return insert_by_name(sink, DECISION_V1, decision_values(sample_rate), kept)
