"""Table definitions of the job's sources and sinks: Kinesis in, Kinesis out. The sinks'
columns are the contracts' fields (contracts.alert, contracts.decision,
contracts.deadletter), in their order."""

from __future__ import annotations

from contracts.alert import ALERT_V1
from contracts.deadletter import DEADLETTER_V1
from contracts.decision import DECISION_V1
from flink_job.config import JobConfig
from flink_job.parsing import ArrivalRules, label_times_sql, rowtime_sql
from flink_job.sql import EPOCH_SQL, NO_ARRIVAL_SQL, columns_ddl, interval_sql, with_sql

# The job's dead letters carry no `source` (that is the fan-out Lambda's record origin).
JOB_DEADLETTER_OMITS = ("source",)


def _aws_options(config: JobConfig) -> dict[str, str]:
    options = {"aws.region": config.aws_region}
    if config.aws_endpoint:
        options["aws.endpoint"] = config.aws_endpoint
    return options


def _sink_options(config: JobConfig, stream: str) -> dict[str, str]:
    options = {
        "connector": "kinesis",
        "stream": stream,
        "format": "json",
        "json.encode.decimal-as-plain-number": "true",
        "sink.flush-buffer.timeout": str(config.sink_max_buffer_ms),
        "sink.batch.max-size": "500",
        "sink.fail-on-error": "false",
        **_aws_options(config),
    }
    if config.aws_endpoint:  # the local server speaks HTTP/1.1 only
        options["aws.http.protocol.version"] = "HTTP1_1"
    return options


def arrival_rules(config: JobConfig, arrival_sql: str = "ingested_at") -> ArrivalRules:
    """The configured bounds on a record's times and amount, against its arrival (on
    Kinesis the record's `ingested_at`)."""
    return ArrivalRules(
        arrival_sql=arrival_sql,
        max_future_ms=config.transactions_max_future_ms,
        max_age_ms=config.transactions_max_age_ms,
        max_amount=config.transactions_max_amount,
        labels_max_future_ms=config.labels_max_future_ms,
    )


def _efo_options(config: JobConfig) -> dict[str, str]:
    """Enhanced fan-out for the transactions source when a consumer is named: the connector
    registers it on first use (LAZY) and subscribes to each shard, so records are pushed
    rather than polled every `source.poll_interval_ms` (which then no longer applies)."""
    if not config.source_efo_consumer:
        return {}
    return {
        "scan.stream.recordpublisher": "EFO",
        "scan.stream.efo.consumername": config.source_efo_consumer,
        "scan.stream.efo.registration": "LAZY",
    }


def transactions_source_ddl(config: JobConfig) -> str:
    lateness = interval_sql(config.watermark_max_out_of_orderness_ms)
    options = {
        "connector": "kinesis",
        "stream": config.transactions_stream,
        "format": "raw",
        "scan.stream.initpos": config.source_initial_position,
        "scan.shard.getrecords.intervalmillis": str(config.source_poll_interval_ms),
        "scan.shard.getrecords.maxrecordcount": "1000",
        **_efo_options(config),
        **_aws_options(config),
    }
    return f"""
CREATE TABLE transactions_source (
  payload BYTES,
  ingested_at TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  et AS {rowtime_sql(arrival_rules(config))},
  WATERMARK FOR et AS et - {lateness}
) WITH (
  {with_sql(options)}
)"""


def label_columns_sql(delay_ms: int, streaming: bool, rules: ArrivalRules | None = None) -> str:
    """Columns of a Label v1 source: `et` is when the label starts to count (its
    transaction's event time + the delay), `reported` when it was reported (the epoch for an
    invalid label). With `rules` (a Kinesis source) the arrival is the record's and a label
    reported after it + `labels_max_future_ms` is invalid; without, there is no arrival (a
    file).

    Labels never move event time: in streaming mode their watermark
    stays at the epoch. The terminal operator's watermark is the minimum over its inputs
    that are active and caught up; an idle labels input is left out (the idle timeout), and
    one that wakes up behind is left out until it catches up, which it never does. So the
    transactions' watermark alone drives the features, and no label, valid or hostile, can
    make a transaction late there. A usable label (reported by its usable time, which is
    after its transaction's time + the delay) is still ahead of that watermark when it
    arrives in time; one that comes after transactions passed its usable time is too late
    for them and is dropped by the operator (Flink's numLateRecordsDropped)."""
    arrival = rules.arrival_sql if rules else NO_ARRIVAL_SQL
    future_ms = (rules.labels_max_future_ms if rules else None) or 0
    usable, reported = label_times_sql(interval_sql(delay_ms), arrival, future_ms)
    columns = "payload STRING,\n  "
    if rules:
        columns += "ingested_at TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,\n  "
    columns += f"et AS {usable},\n  reported AS {reported}"
    if streaming:
        columns += f",\n  WATERMARK FOR et AS {EPOCH_SQL}"
    return columns


def labels_source_ddl(config: JobConfig) -> str:
    options = {
        "connector": "kinesis",
        "stream": config.labels_stream,
        "format": "raw",
        "scan.stream.initpos": config.source_initial_position,
        "scan.shard.getrecords.intervalmillis": str(config.source_poll_interval_ms),
        "scan.shard.getrecords.maxrecordcount": "1000",
        **_aws_options(config),
    }
    columns = label_columns_sql(config.labels_delay_ms, True, arrival_rules(config))
    return f"""
CREATE TABLE labels_source (
  {columns}
) WITH (
  {with_sql(options)}
)"""


ALERT_COLUMNS = columns_ddl(ALERT_V1)
DEADLETTER_COLUMNS = columns_ddl(DEADLETTER_V1, omit=JOB_DEADLETTER_OMITS)
DECISION_COLUMNS = columns_ddl(DECISION_V1)


def alerts_sink_ddl(config: JobConfig) -> str:
    return f"""
CREATE TABLE alerts_sink ({ALERT_COLUMNS}
) PARTITIONED BY (card_id) WITH (
  {with_sql(_sink_options(config, config.alerts_stream))}
)"""


def deadletter_sink_ddl(config: JobConfig) -> str:
    return f"""
CREATE TABLE deadletter_sink ({DEADLETTER_COLUMNS}
) WITH (
  {with_sql(_sink_options(config, config.deadletter_stream))}
)"""


def decisions_sink_ddl(config: JobConfig) -> str:
    """The decision log's stream, keyed by decision_id: a hot card's decisions spread over
    the shards (a card's order does not matter in the log)."""
    return f"""
CREATE TABLE decisions_sink ({DECISION_COLUMNS}
) PARTITIONED BY (decision_id) WITH (
  {with_sql(_sink_options(config, config.decisions_stream))}
)"""
