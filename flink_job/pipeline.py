"""Wire the job: parse → (dead-letter | features) → score and decide (flink_job.decide) →
decision log and alert.

Every stage is a SQL view over the previous one, so the same views run in streaming mode
on Kinesis and in batch mode on a file (the training path, model_export.feature_table).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pyflink.table import TableEnvironment, TableResult

from contracts.deadletter import DEADLETTER_V1
from contracts.features import DEFAULT_LAYOUT, FeatureLayout
from contracts.label import LABEL_V1
from contracts.transaction import TRANSACTION_V1
from flink_job.config import JobConfig
from flink_job.decide import (
    ALERTED_VIEW,
    DECIDED_VIEW,
    FEATURE_VECTOR_FUNCTION,
    SCORE_FUNCTION,
    SCORED_VIEW,
    alert_insert_sql,
    alerted_sql,
    decided_sql,
    decision_insert_sql,
    scored_sql,
)
from flink_job.features import (
    ARRIVAL_COLUMN,
    DEFAULT_LABEL_DELAY_MS,
    FEATURE_NAMES,
    JAVA_FUNCTIONS,
    card_aggregate,
    feature_columns_sql,
    feature_schema_hash,
    feature_views,
    terminal_aggregate,
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
from flink_job.sql import SQL_TYPES, epoch_millis_sql, insert_by_name, iso_sql
from flink_job.tables import (
    JOB_DEADLETTER_OMITS,
    alerts_sink_ddl,
    arrival_rules,
    deadletter_sink_ddl,
    decisions_sink_ddl,
    labels_source_ddl,
    transactions_source_ddl,
)
from udfs.scoring import score_udf

# A valid transaction's row in the views: Transaction v1's fields (event_time parsed into
# the rowtime `et`), then its arrival on Kinesis.
ROW_TIME_COLUMNS = {"et": "TIMESTAMP(3)", "ingested_at": "TIMESTAMP_LTZ(3)"}
TRANSACTION_ROW = (*(n for n in TRANSACTION_V1.names() if n != "event_time"), *ROW_TIME_COLUMNS)
TRANSACTION_COLUMNS = ", ".join(TRANSACTION_ROW)


LABELS_IDLE_TIMEOUT_MS = 1000
LATE_COUNTER_FUNCTION = ("count_late", "io.fraudstream.metrics.LateCounter")


@dataclass(frozen=True)
class JobTables:
    """DDL of the job's edges: on Kinesis in the job, on files and blackholes in the bench."""

    transactions_source: str
    labels_source: str
    alerts_sink: str
    deadletter_sink: str
    decisions_sink: str
    rules: ArrivalRules  # the bounds the transactions source's rowtime applies


def kinesis_tables(config: JobConfig) -> JobTables:
    return JobTables(
        transactions_source=transactions_source_ddl(config),
        labels_source=labels_source_ddl(config),
        alerts_sink=alerts_sink_ddl(config),
        deadletter_sink=deadletter_sink_ddl(config),
        decisions_sink=decisions_sink_ddl(config),
        rules=arrival_rules(config),
    )


def _view(t_env: TableEnvironment, name: str, query: str) -> None:
    t_env.execute_sql(f"CREATE TEMPORARY VIEW {name} AS {query}")


# Event time as a plain timestamp in the feature views: the aggregates order by arrival (or,
# in batch, by et_ms) and window by et themselves; no operator after the source needs et to
# be a time attribute, and labels and transactions then union whatever their sources.
PLAIN_ET = "CAST(et AS TIMESTAMP(3)) AS et"


def _label_row_value(name: str) -> str:
    """A label's value in a transaction row's column `name`: the fields Label v1 shares
    with Transaction v1 (ids), the label's usable time as `et`, NULL for the rest."""
    if name == "et":
        return PLAIN_ET
    if name in ROW_TIME_COLUMNS:
        return f"CAST(NULL AS {ROW_TIME_COLUMNS[name]})"
    if name in LABEL_V1.names():
        return f"JSON_VALUE(payload, '$.{name}')"
    return f"CAST(NULL AS {SQL_TYPES[TRANSACTION_V1.field(name).type]})"


# A Label v1 record as a row of the terminal stream, column by column by name.
LABEL_ROW_COLUMNS = ", ".join(_label_row_value(name) for name in TRANSACTION_ROW)


def register_label_views(t_env: TableEnvironment, labels: str) -> str:
    """Label v1 records (payload, et = the transaction's event time + delay, reported) to
    the label rows of the terminal stream (is_fraud 1 for fraud, 0 for legit, reported_ms
    when it was reported). A label is used only when it was reported by the time it is
    needed (reported <= event time + delay), in both engines, so its effect never depends on
    when a replay happens to deliver it; of a transaction's usable labels the one reported
    last is in force (a legit label takes a fraud back). The terminal aggregate counts and
    ignores labels of transactions it never had, and fraud labels of a transaction whose
    label in force is fraud already."""
    _view(
        t_env,
        "parsed_labels",
        f"SELECT payload, et, reported, {label_reject_reason_sql()} AS reject_reason FROM {labels}",
    )
    is_fraud = "CASE WHEN JSON_VALUE(payload, '$.label') = 'fraud' THEN 1 ELSE 0 END"
    _view(
        t_env,
        "usable_labels",
        f"SELECT {LABEL_ROW_COLUMNS}, FALSE AS late, 0 AS is_txn, {is_fraud} AS is_fraud, "
        f"{epoch_millis_sql('reported')} AS reported_ms FROM parsed_labels "
        "WHERE reject_reason IS NULL AND reported <= et",
    )
    return "usable_labels"


def register_java_functions(
    t_env: TableEnvironment, layout: FeatureLayout = DEFAULT_LAYOUT
) -> None:
    """The job's Java functions (parsing, feature aggregates, the late counter, the feature
    vector) from the jar (pipeline.jars locally, the application's `jarfile` on Managed
    Flink). Sources need them in their DDL (the rowtime), so environments register them
    first. The two aggregates are instances built with `layout` (they keep no window of
    their own); the rest are registered by class."""
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
    for aggregate in (card_aggregate(layout), terminal_aggregate(layout=layout)):
        register_java_instance(t_env, aggregate.function, aggregate.java_class, aggregate.java_spec)


def register_java_instance(
    t_env: TableEnvironment, name: str, java_class: str, argument: str
) -> None:
    """`name` as a system function: an instance of `java_class` built with `argument` (the
    Table API takes instances from Java only, so through the gateway)."""
    from pyflink.java_gateway import get_gateway

    constructor = get_gateway().jvm
    for part in java_class.split("."):
        constructor = getattr(constructor, part)
    function = constructor(argument)
    j_tenv = t_env._j_tenv
    j_tenv.dropTemporarySystemFunction(name)
    j_tenv.createTemporarySystemFunction(name, function)


def register_feature_views(
    t_env: TableEnvironment,
    source: str,
    streaming: bool = True,
    labels: str | None = None,
    label_delay_ms: int = DEFAULT_LABEL_DELAY_MS,
    count_late: bool = False,
    rules: ArrivalRules | None = None,
    layout: FeatureLayout = DEFAULT_LAYOUT,
) -> str:
    """Views from a raw source (payload, ingested_at, et) to one row of features per
    valid transaction. Returns the final view's name; `parsed_transactions` holds every
    record with its `reject_reason`. `labels`, when given, is a Label v1 source (payload,
    et = the transaction's event time + `label_delay_ms`, reported) for the terminal risk.

    Streaming, every transaction is scored on arrival (flink_job.features): the watermark
    holds nothing back. A transaction that arrives behind the watermark is flagged `late`
    (its oldest window edges may miss entries its keys already evicted) and, with
    `count_late`, counted in the `transactions_late` metric (a Java scalar that sees late
    rows only). In batch mode there is no watermark and nothing is late.
    `rules` bound a record's times and amount against its arrival (the source's rowtime
    must use the same rules); by default, a file's: no arrival.
    The environment has registered the Java functions already (register_java_functions,
    called where environments are made: flink_job.main, model_export.feature_table)."""
    late = "FALSE"
    if streaming:
        behind = "et <= CURRENT_WATERMARK(et)"
        flag = f"{LATE_COUNTER_FUNCTION[0]}(transaction_id)" if count_late else "TRUE"
        late = f"CASE WHEN {behind} THEN {flag} ELSE FALSE END"
    _view(t_env, "parsed_transactions", parsed_sql(source, rules or ArrivalRules()))
    columns = ", ".join(PLAIN_ET if name == "et" else name for name in TRANSACTION_ROW)
    _view(
        t_env,
        "valid_transactions",
        f"SELECT {columns}, {late} AS late FROM parsed_transactions WHERE reject_reason IS NULL",
    )
    events = (
        f"SELECT {TRANSACTION_COLUMNS}, late, 1 AS is_txn, 0 AS is_fraud, "
        "CAST(NULL AS BIGINT) AS reported_ms FROM valid_transactions"
    )
    if labels is not None:
        events += f" UNION ALL SELECT * FROM {register_label_views(t_env, labels)}"
    arrival = f"{epoch_millis_sql('et')} AS et_ms"  # batch orders by it
    if streaming:
        arrival = f"PROCTIME() AS {ARRIVAL_COLUMN}"
    _view(t_env, "keyed_events", f"SELECT *, {arrival} FROM ({events})")
    last = "keyed_events"
    views = feature_views("keyed_events", "features", streaming, label_delay_ms, layout)
    for name, query in views:
        _view(t_env, name, query)
        last = name
    _view(
        t_env,
        "transaction_features",
        f"SELECT {TRANSACTION_COLUMNS}, late, {feature_columns_sql(layout)} FROM {last}",
    )
    return "transaction_features"


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
    t_env.execute_sql(tables.decisions_sink)
    # The UDF gets what it checks models against from the job: it reads no job config.
    endpoint = config.aws_endpoint or os.environ.get("AWS_ENDPOINT_URL") or None
    scorer = score_udf(
        config.model_path,
        FEATURE_NAMES,
        feature_schema_hash(),
        config.model_poll_interval_ms,
        endpoint,
        rules=(config.rules_path, config.rules_poll_interval_ms),
        shadows=(config.model_max_shadows, config.model_shadow_budget_ms),
    )
    t_env.create_temporary_function(SCORE_FUNCTION, scorer)
    features = register_job_features(t_env, config, tables)
    _view(t_env, SCORED_VIEW, scored_sql(features))
    # One planned query behind both sinks: a view over a Table holds one plan, which the
    # two INSERTs share (with SQL views each INSERT re-plans the features and the scoring,
    # and the planner cannot merge the copies: the job would score everything twice).
    t_env.create_temporary_view(DECIDED_VIEW, t_env.sql_query(decided_sql(SCORED_VIEW)))
    _view(t_env, ALERTED_VIEW, alerted_sql(DECIDED_VIEW, config.outputs_since_ms))
    return [
        alert_insert_sql("alerts_sink", ALERTED_VIEW),
        decision_insert_sql(config.decisions_sample_rate, "decisions_sink", DECIDED_VIEW),
        deadletter_insert_sql(),
    ]


def deadletter_values() -> dict[str, str]:
    """One SQL expression per field of the job's dead letter, over a refused record."""
    return {
        "schema": f"'{DEADLETTER_V1.schema}'",
        "reason": "reject_reason",
        "payload": "d.payload",
        "payload_encoding": "d.payload_encoding",
        "payload_bytes": "d.payload_bytes",
        "payload_sha256": "d.payload_sha256",
        "payload_truncated": "d.payload_truncated",
        "ingested_at": iso_sql("ingested_at"),
        "detected_at": iso_sql("CURRENT_TIMESTAMP"),
    }


def deadletter_insert_sql(sink: str = "deadletter_sink") -> str:
    """Every refused record as deadletter.v1, column by column by name."""
    refused = (
        f"(SELECT reject_reason, ingested_at, {deadletter_payload_sql()} AS d\n"
        "      FROM parsed_transactions WHERE reject_reason IS NOT NULL)"
    )
    return insert_by_name(
        sink, DEADLETTER_V1, deadletter_values(), refused, omit=JOB_DEADLETTER_OMITS
    )


def execute_statements(t_env: TableEnvironment, inserts: list[str]) -> TableResult:
    """Submit the INSERTs as one job (one statement set), parsed and planned in one call.

    Flink 1.20 plans only on the Java thread that created `t_env` (see
    tests/test_pipeline_submit.py): call this from the thread that created it, in a process
    where no other Python thread uses the JVM (local.flink.running runs the job in a child)."""
    body = "".join(f"{insert};\n" for insert in inserts)
    return t_env.execute_sql(f"EXECUTE STATEMENT SET BEGIN\n{body}END")
