# The transaction and label archive: every record of the `transactions` and `labels` streams
# in S3 as Parquet, partitioned by the day of its (transaction's) event_time, one Glue table
# each, so data scientists train from production history (a date range is a set of dt=
# partitions). Kinesis Data Firehose reads the streams (firehose.tf): it runs beside the
# job, so the archive has every record the streams carried, accepted or not, and needs no
# change to the job; a transformation Lambda masks card numbers first (lambdas/archive_mask).
#
# The decision log (decisions.tf) lives in the same bucket: every Decision v1 the job wrote
# to the `decisions` stream, by the day and hour of the transaction's event time.
#
# Layout: s3://<bucket>/transactions/dt=YYYY-MM-DD/*.parquet and
#         s3://<bucket>/labels/dt=YYYY-MM-DD/*.parquet (labels by their transaction's day,
#         so the labels of a date range of transactions are the same partitions);
#         records Firehose could not convert under errors/<kind>/<error type>/dt=<arrival day>/.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # Transaction v1 and Label v1 (contracts/; tests/test_terraform_archive.py) as Hive types.
  columns = {
    transactions = [
      { name = "transaction_id", type = "string" },
      { name = "event_time", type = "string" },
      { name = "card_id", type = "string" },
      { name = "terminal_id", type = "string" },
      { name = "amount", type = "double" },
      { name = "currency", type = "string" },
      { name = "merchant_category", type = "string" },
      { name = "country", type = "string" },
      { name = "lat", type = "double" },
      { name = "lon", type = "double" },
      { name = "channel", type = "string" },
      { name = "device_id", type = "string" },
    ]
    labels = [
      { name = "transaction_id", type = "string" },
      { name = "card_id", type = "string" },
      { name = "terminal_id", type = "string" },
      { name = "event_time", type = "string" },
      { name = "label", type = "string" },
      { name = "source", type = "string" },
      { name = "reported_at", type = "string" },
      { name = "actor", type = "string" },
      { name = "verdict_id", type = "string" },
    ]
  }
  prefixes = { for kind in keys(local.columns) : kind => "${kind}/" }

  # Decision v1 (contracts/decision.py; tests/test_terraform_archive.py) as Hive types.
  decision_columns = [
    { name = "schema", type = "string" },
    { name = "decision_id", type = "string" },
    { name = "transaction_id", type = "string" },
    { name = "event_time", type = "string" },
    { name = "card_id", type = "string" },
    { name = "terminal_id", type = "string" },
    { name = "amount", type = "double" },
    { name = "currency", type = "string" },
    { name = "merchant_category", type = "string" },
    { name = "country", type = "string" },
    { name = "channel", type = "string" },
    { name = "features", type = "map<string,double>" },
    { name = "model_version", type = "string" },
    { name = "score", type = "double" },
    { name = "threshold", type = "double" },
    { name = "shadow_scores", type = "map<string,double>" },
    { name = "alerted", type = "boolean" },
    { name = "severity", type = "string" },
    { name = "reasons", type = "array<string>" },
    { name = "reason_codes", type = "array<string>" },
    { name = "ruleset_version", type = "string" },
    { name = "rule_hits", type = "array<string>" },
    { name = "shadow_rule_hits", type = "array<string>" },
    { name = "late", type = "boolean" },
    { name = "ingested_at", type = "string" },
    { name = "decided_at", type = "string" },
    { name = "sample_weight", type = "double" },
  ]
  decisions_prefix = "decisions/"
}

module "bucket" {
  source                             = "../s3_bucket"
  name                               = var.bucket_name
  kms_key_arn                        = var.kms_key_arn
  access_log_bucket                  = var.access_log_bucket
  transition_to_ia_days              = var.transition_to_ia_days
  expiration_days                    = var.retention_days
  noncurrent_version_expiration_days = 7
  force_destroy                      = var.force_destroy
  tags                               = var.tags
}

resource "aws_glue_catalog_table" "archive" {
  for_each = local.columns

  catalog_id    = data.aws_caller_identity.current.account_id # the default, named (analytics)
  name          = each.key
  database_name = var.database_name
  description   = "Archived ${each.key} (Parquet from Firehose), partitioned by the day of event_time (UTC)."
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    "EXTERNAL"                    = "TRUE"
    "classification"              = "parquet"
    "parquet.compression"         = "SNAPPY"
    "projection.enabled"          = "true"
    "projection.dt.type"          = "date"
    "projection.dt.format"        = "yyyy-MM-dd"
    "projection.dt.range"         = "${var.projection_start_date},NOW"
    "projection.dt.interval"      = "1"
    "projection.dt.interval.unit" = "DAYS"
    "storage.location.template"   = "s3://${module.bucket.name}/${local.prefixes[each.key]}dt=$${dt}/"
  }

  partition_keys {
    name = "dt"
    type = "string"
  }

  storage_descriptor {
    location      = "s3://${module.bucket.name}/${local.prefixes[each.key]}"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      name                  = "${each.key}-parquet"
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    }

    dynamic "columns" {
      for_each = each.value
      content {
        name = columns.value.name
        type = columns.value.type
      }
    }
  }
}
