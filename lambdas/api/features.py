"""The job's feature names, which a rule may read: the API type-checks rules against the
same schema the job does (rules.artefacts.scoring_schema). They are defined in
flink_job.features, which the Lambda does not carry (it imports the job's SQL and layout);
tests/test_api_rules.py holds this tuple equal to flink_job.features.FEATURE_NAMES."""

from __future__ import annotations

FEATURE_NAMES: tuple[str, ...] = (
    "amount",
    "card_txn_count_10m",
    "card_sum_amount_10m",
    "card_avg_amount_10m",
    "card_max_amount_10m",
    "card_txn_count_1h",
    "card_sum_amount_1h",
    "card_avg_amount_1h",
    "card_max_amount_1h",
    "card_txn_count_1d",
    "card_sum_amount_1d",
    "card_avg_amount_1d",
    "card_max_amount_1d",
    "card_txn_count_7d",
    "card_sum_amount_7d",
    "card_avg_amount_7d",
    "card_max_amount_7d",
    "card_txn_count_30d",
    "card_sum_amount_30d",
    "card_avg_amount_30d",
    "card_max_amount_30d",
    "card_distinct_terminals_1d",
    "card_secs_since_prev",
    "amount_over_card_avg_30d",
    "card_amount_zscore_30d",
    "card_terminal_seen_30d",
    "is_night",
    "is_weekend",
    "card_km_from_prev",
    "card_kmh_from_prev",
    "card_small_txn_count_10m",
    "terminal_txn_count_1d",
    "terminal_txn_count_7d",
    "terminal_txn_count_30d",
    "terminal_fraud_risk_1d",
    "terminal_fraud_risk_7d",
    "terminal_fraud_risk_30d",
    "terminal_distinct_cards_1h",
)
