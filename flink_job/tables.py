"""Table definitions of the job's sources and sinks: Kinesis in, Kinesis out."""

from __future__ import annotations

from flink_job.config import JobConfig
from flink_job.features import interval_sql
from flink_job.parsing import label_times_sql, rowtime_sql

ISO_FORMAT = "yyyy-MM-dd''T''HH:mm:ss.SSS''Z''"


def iso_sql(column: str) -> str:
    """RFC 3339 UTC text of a timestamp column (the session time zone is UTC)."""
    return f"DATE_FORMAT({column}, '{ISO_FORMAT}')"


def epoch_millis_sql(column: str) -> str:
    """Epoch milliseconds of a TIMESTAMP(3) column (the session time zone is UTC)."""
    seconds = f"UNIX_TIMESTAMP(DATE_FORMAT({column}, 'yyyy-MM-dd HH:mm:ss'))"
    return f"({seconds} * 1000 + CAST(DATE_FORMAT({column}, 'SSS') AS BIGINT))"


def _aws_options(config: JobConfig) -> dict[str, str]:
    options = {"aws.region": config.aws_region}
    if config.aws_endpoint:
        options["aws.endpoint"] = config.aws_endpoint
    return options


def _with(options: dict[str, str]) -> str:
    return ",\n  ".join(f"'{k}' = '{v}'" for k, v in options.items())


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


def transactions_source_ddl(config: JobConfig) -> str:
    lateness = interval_sql(config.watermark_max_out_of_orderness_ms)
    options = {
        "connector": "kinesis",
        "stream": config.transactions_stream,
        "format": "raw",
        "scan.stream.initpos": config.source_initial_position,
        "scan.shard.getrecords.intervalmillis": str(config.source_poll_interval_ms),
        "scan.shard.getrecords.maxrecordcount": "1000",
        **_aws_options(config),
    }
    return f"""
CREATE TABLE transactions_source (
  payload STRING,
  ingested_at TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  et AS {rowtime_sql()},
  WATERMARK FOR et AS et - {lateness}
) WITH (
  {_with(options)}
)"""


def label_columns_sql(delay_ms: int, lateness_ms: int | None) -> str:
    """Columns of a Label v1 source: `et` is when the label starts to count (its
    transaction's event time + the delay); the watermark, when `lateness_ms` is given,
    follows `reported_at`, the order labels arrive in, `lateness_ms` behind."""
    usable, reported = label_times_sql(interval_sql(delay_ms))
    columns = f"payload STRING,\n  et AS {usable},\n  reported AS {reported}"
    if lateness_ms is not None:
        columns += f",\n  WATERMARK FOR et AS reported - {interval_sql(lateness_ms)}"
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
    columns = label_columns_sql(config.labels_delay_ms, config.watermark_max_out_of_orderness_ms)
    return f"""
CREATE TABLE labels_source (
  {columns}
) WITH (
  {_with(options)}
)"""


ALERT_COLUMNS = """
  `schema` STRING,
  alert_id STRING,
  transaction_id STRING,
  event_time STRING,
  card_id STRING,
  terminal_id STRING,
  amount DOUBLE,
  currency STRING,
  merchant_category STRING,
  country STRING,
  channel STRING,
  score DOUBLE,
  threshold DOUBLE,
  severity STRING,
  model_version STRING,
  reasons ARRAY<STRING>,
  reason_codes ARRAY<STRING>,
  features MAP<STRING, DOUBLE>,
  late BOOLEAN,
  ingested_at STRING,
  detected_at STRING"""


def alerts_sink_ddl(config: JobConfig) -> str:
    return f"""
CREATE TABLE alerts_sink ({ALERT_COLUMNS}
) PARTITIONED BY (card_id) WITH (
  {_with(_sink_options(config, config.alerts_stream))}
)"""


def deadletter_sink_ddl(config: JobConfig) -> str:
    return f"""
CREATE TABLE deadletter_sink (
  `schema` STRING,
  reason STRING,
  payload STRING,
  ingested_at STRING,
  detected_at STRING
) WITH (
  {_with(_sink_options(config, config.deadletter_stream))}
)"""
