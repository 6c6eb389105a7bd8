"""Wire the job: parse → (dead-letter | features) → score and explain → alert.

Every stage is a SQL view over the previous one, so the same views run in streaming mode
on Kinesis and in batch mode on a file (the training path, model_export.feature_table).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyflink.table import TableEnvironment, TableResult

from flink_job.config import JobConfig
from flink_job.features import (
    DEFAULT_LABEL_DELAY_MS,
    FEATURE_NAMES,
    JAVA_FUNCTIONS,
    feature_columns_sql,
    feature_views,
    isolated_history_sql,
)
from flink_job.parsing import (
    DEADLETTER_FUNCTION,
    EVENT_TIME_FUNCTION,
    PARSE_FUNCTION,
    ArrivalRules,
    deadletter_payload_sql,
    label_reject_reason_sql,
    parsed_sql,
)
from flink_job.tables import (
    alerts_sink_ddl,
    arrival_rules,
    deadletter_sink_ddl,
    epoch_millis_sql,
    iso_sql,
    labels_source_ddl,
    transactions_source_ddl,
)
from udfs.scoring import score_udf

TRANSACTION_COLUMNS = (
    "transaction_id, card_id, terminal_id, amount, currency, merchant_category, "
    "country, lat, lon, channel, device_id, et, ingested_at"
)


LABELS_IDLE_TIMEOUT_MS = 1000
LATE_COUNTER_FUNCTION = ("count_late", "io.fraudstream.metrics.LateCounter")
# The features in one float32 binary value: one Arrow column into the scoring UDF, not 38.
FEATURE_VECTOR_FUNCTION = ("feature_vector", "io.fraudstream.scoring.FeatureVector")


@dataclass(frozen=True)
class JobTables:
    """DDL of the job's edges: on Kinesis in the job, on files and blackholes in the bench."""

    transactions_source: str
    labels_source: str
    alerts_sink: str
    deadletter_sink: str
    rules: ArrivalRules  # the bounds the transactions source's rowtime applies


def kinesis_tables(config: JobConfig) -> JobTables:
    return JobTables(
        transactions_source=transactions_source_ddl(config),
        labels_source=labels_source_ddl(config),
        alerts_sink=alerts_sink_ddl(config),
        deadletter_sink=deadletter_sink_ddl(config),
        rules=arrival_rules(config),
    )


def _view(t_env: TableEnvironment, name: str, query: str) -> None:
    t_env.execute_sql(f"CREATE TEMPORARY VIEW {name} AS {query}")


LABEL_ROW_COLUMNS = (
    "JSON_VALUE(payload, '$.transaction_id'), JSON_VALUE(payload, '$.card_id'), "
    "JSON_VALUE(payload, '$.terminal_id'), CAST(NULL AS DOUBLE), CAST(NULL AS STRING), "
    "CAST(NULL AS STRING), CAST(NULL AS STRING), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), "
    "CAST(NULL AS STRING), CAST(NULL AS STRING), et, CAST(NULL AS TIMESTAMP_LTZ(3))"
)


def register_label_views(t_env: TableEnvironment, labels: str) -> str:
    """Label v1 records (payload, et = the transaction's event time + delay, reported) to
    the label rows of the terminal stream (is_fraud 1 for fraud, 0 for legit). A label is
    used only when it was reported by the time it is needed (reported <= event time +
    delay), in both engines, so its effect never depends on when a replay happens to
    deliver it. The terminal aggregate counts and ignores labels of transactions it never
    had, and fraud labels of a transaction already labelled fraud."""
    _view(
        t_env,
        "parsed_labels",
        f"SELECT payload, et, reported, {label_reject_reason_sql()} AS reject_reason FROM {labels}",
    )
    is_fraud = "CASE WHEN JSON_VALUE(payload, '$.label') = 'fraud' THEN 1 ELSE 0 END"
    _view(
        t_env,
        "usable_labels",
        f"SELECT {LABEL_ROW_COLUMNS}, 0 AS is_txn, {is_fraud} AS is_fraud FROM parsed_labels "
        "WHERE reject_reason IS NULL AND reported <= et",
    )
    return "usable_labels"


def register_java_functions(t_env: TableEnvironment) -> None:
    """The job's Java functions (parsing, feature aggregates, the late counter, the feature
    vector) from the jar (pipeline.jars locally, the application's `jarfile` on Managed
    Flink). Sources need them in their DDL (the rowtime), so environments register them
    first."""
    functions = (
        *JAVA_FUNCTIONS,
        PARSE_FUNCTION,
        EVENT_TIME_FUNCTION,
        DEADLETTER_FUNCTION,
        LATE_COUNTER_FUNCTION,
        FEATURE_VECTOR_FUNCTION,
    )
    for name, java_class in functions:
        t_env.execute_sql(
            f"CREATE TEMPORARY SYSTEM FUNCTION IF NOT EXISTS {name} AS '{java_class}' LANGUAGE JAVA"
        )


def register_feature_views(
    t_env: TableEnvironment,
    source: str,
    streaming: bool = True,
    labels: str | None = None,
    label_delay_ms: int = DEFAULT_LABEL_DELAY_MS,
    count_late: bool = False,
    rules: ArrivalRules | None = None,
) -> str:
    """Views from a raw source (payload, ingested_at, et) to one row of features per
    valid transaction. Returns the final view's name; `parsed_transactions` holds every
    record with its `reject_reason`. `labels`, when given, is a Label v1 source (payload,
    et = the transaction's event time + `label_delay_ms`, reported) for the terminal risk.
    In batch mode there is no watermark and no late data. `count_late` counts late
    transactions in the `transactions_late` metric (a Java scalar that sees late rows only).
    `rules` bound a record's times and amount against its arrival (the source's rowtime
    must use the same rules); by default, a file's: no arrival.
    The environment has registered the Java functions already (register_java_functions,
    called where environments are made: flink_job.main, model_export.feature_table)."""
    on_time, late = (
        (
            "CURRENT_WATERMARK(et) IS NULL OR et > CURRENT_WATERMARK(et)",
            "et <= CURRENT_WATERMARK(et)",
        )
        if streaming
        else ("TRUE", "FALSE")
    )
    _view(t_env, "parsed_transactions", parsed_sql(source, rules or ArrivalRules()))
    _view(
        t_env,
        "valid_transactions",
        f"SELECT {TRANSACTION_COLUMNS} FROM parsed_transactions WHERE reject_reason IS NULL",
    )
    _view(
        t_env,
        "on_time_transactions",
        f"SELECT {TRANSACTION_COLUMNS} FROM valid_transactions WHERE {on_time}",
    )
    if count_late:  # in the filter, which the planner cannot move past scoring and alerting
        late = f"CASE WHEN {late} THEN {LATE_COUNTER_FUNCTION[0]}(transaction_id) ELSE FALSE END"
    _view(
        t_env,
        "late_transactions",
        f"SELECT {TRANSACTION_COLUMNS} FROM valid_transactions WHERE {late}",
    )
    events = f"SELECT {TRANSACTION_COLUMNS}, 1 AS is_txn, 0 AS is_fraud FROM on_time_transactions"
    if labels is not None:
        events += f" UNION ALL SELECT * FROM {register_label_views(t_env, labels)}"
    _view(t_env, "terminal_events", events)
    ordered = "terminal_events"
    if not streaming:
        _view(
            t_env,
            "ordered_events",
            f"SELECT *, {epoch_millis_sql('et')} AS et_ms FROM terminal_events",
        )
        ordered = "ordered_events"
    last = ordered
    for name, query in feature_views(ordered, "features", streaming, label_delay_ms):
        _view(t_env, name, query)
        last = name
    _view(t_env, "late_transactions_alone", isolated_history_sql("late_transactions"))
    _view(
        t_env,
        "transaction_features",
        f"SELECT {TRANSACTION_COLUMNS}, FALSE AS late, {feature_columns_sql()} FROM {last} "
        f"UNION ALL SELECT {TRANSACTION_COLUMNS}, TRUE AS late, "
        f"{feature_columns_sql()} FROM late_transactions_alone",
    )
    return "transaction_features"


def feature_vector_sql() -> str:
    """Every feature, in FEATURE_NAMES order (the model's), as one float32 vector."""
    features = ", ".join(f"CAST({name} AS DOUBLE)" for name in FEATURE_NAMES)
    return f"{FEATURE_VECTOR_FUNCTION[0]}({features})"


def _severity_sql() -> str:
    band = "(1.0 - threshold) / 3.0"
    return (
        f"CASE WHEN score >= threshold + 2 * {band} THEN 'high' "
        f"WHEN score >= threshold + {band} THEN 'medium' ELSE 'low' END"
    )


def _features_map_sql() -> str:
    return "MAP[" + ", ".join(f"'{n}', {n}" for n in FEATURE_NAMES) + "]"


def register_job_features(t_env: TableEnvironment, config: JobConfig, tables: JobTables) -> str:
    """The job's sources and feature views (every feature of every valid transaction, with
    the terminal risk from labels and late transactions counted); returns the last view."""
    t_env.execute_sql(tables.transactions_source)
    t_env.execute_sql(tables.labels_source)
    # A labels stream with nothing to say must not hold the watermark (and the features)
    # back: an input that sent nothing for this long is left out of the watermark.
    t_env.get_config().set("table.exec.source.idle-timeout", f"{LABELS_IDLE_TIMEOUT_MS} ms")
    return register_feature_views(
        t_env,
        "transactions_source",
        labels="labels_source",
        label_delay_ms=config.labels_delay_ms,
        count_late=True,
        rules=tables.rules,
    )


def build_statements(
    t_env: TableEnvironment, config: JobConfig, tables: JobTables | None = None
) -> list[str]:
    """Register sources, sinks (Kinesis unless `tables` says otherwise), UDFs and views;
    return the job's INSERT statements, to be submitted together with `execute_statements`."""
    tables = tables or kinesis_tables(config)
    t_env.execute_sql(tables.alerts_sink)
    t_env.execute_sql(tables.deadletter_sink)
    endpoint = config.aws_endpoint or None
    scorer = score_udf(config.model_path, config.model_poll_interval_ms, endpoint)
    t_env.create_temporary_function("score_transactions", scorer)
    features = register_job_features(t_env, config, tables)
    _view(
        t_env,
        "scored_transactions",
        f"SELECT *, score_transactions({feature_vector_sql()}) AS decision FROM {features}",
    )
    _view(
        t_env,
        "alerted_transactions",
        "SELECT *, decision.score AS score, decision.threshold AS threshold "
        "FROM scored_transactions WHERE decision.score >= decision.threshold",
    )
    alerts = f"""INSERT INTO alerts_sink SELECT
  'alert.v1',
  SUBSTR(SHA256(CONCAT('alert.v1:', transaction_id)), 1, 32),
  transaction_id, {iso_sql("et")}, card_id, terminal_id, amount, currency,
  merchant_category, country, channel, score, threshold, {_severity_sql()},
  decision.model_version, decision.reasons, decision.codes, {_features_map_sql()}, late,
  {iso_sql("ingested_at")}, {iso_sql("CURRENT_TIMESTAMP")}
FROM alerted_transactions"""
    deadletters = f"""INSERT INTO deadletter_sink SELECT
  'deadletter.v1', reject_reason, d.payload, d.payload_encoding, d.payload_bytes,
  d.payload_sha256, d.payload_truncated, {iso_sql("ingested_at")}, {iso_sql("CURRENT_TIMESTAMP")}
FROM (SELECT reject_reason, ingested_at, {deadletter_payload_sql()} AS d
      FROM parsed_transactions WHERE reject_reason IS NOT NULL)"""
    return [alerts, deadletters]


def execute_statements(t_env: TableEnvironment, inserts: list[str]) -> TableResult:
    """Submit the INSERTs as one job (one statement set), parsed and planned in one call.

    Flink 1.20 plans only on the Java thread that created `t_env` (see
    tests/test_pipeline_submit.py): call this from the thread that created it, in a process
    where no other Python thread uses the JVM (local.running runs the job in a child)."""
    body = "".join(f"{insert};\n" for insert in inserts)
    return t_env.execute_sql(f"EXECUTE STATEMENT SET BEGIN\n{body}END")
