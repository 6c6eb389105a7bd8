# The alerts lake as a table: Glue catalog with partition projection (no crawler, no
# MSCK REPAIR), an Athena workgroup with encrypted results, and QuickSight on top.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  lake_location = "s3://${var.lake_bucket_name}/${var.lake_prefix}"
  # Alert v1 as written by the fan-out (contracts/alert.py; tests/test_contracts.py holds it).
  columns = [
    { name = "schema", type = "string" },
    { name = "alert_id", type = "string" },
    { name = "transaction_id", type = "string" },
    { name = "event_time", type = "string" },
    { name = "card_id", type = "string" },
    { name = "terminal_id", type = "string" },
    { name = "amount", type = "double" },
    { name = "currency", type = "string" },
    { name = "merchant_category", type = "string" },
    { name = "country", type = "string" },
    { name = "channel", type = "string" },
    { name = "score", type = "double" },
    { name = "threshold", type = "double" },
    { name = "severity", type = "string" },
    { name = "model_version", type = "string" },
    { name = "reasons", type = "array<string>" },
    { name = "reason_codes", type = "array<string>" },
    { name = "reason_contributions", type = "array<double>" },
    { name = "features", type = "map<string,double>" },
    { name = "late", type = "boolean" },
    { name = "ingested_at", type = "string" },
    { name = "detected_at", type = "string" },
  ]
}

# catalog_id is the account's catalog, as by default; named, so that a provider that skips
# asking for the account (Terraform against moto) still builds the resource's id.
resource "aws_glue_catalog_database" "this" {
  catalog_id  = data.aws_caller_identity.current.account_id
  name        = var.database_name
  description = "Fraud detection: the alerts lake."
}

resource "aws_glue_catalog_table" "alerts" {
  catalog_id    = data.aws_caller_identity.current.account_id
  name          = var.table_name
  database_name = aws_glue_catalog_database.this.name
  description   = "Alert v1, one JSON line per object, partitioned by the transaction's event_time (UTC)."
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    "EXTERNAL"                    = "TRUE"
    "classification"              = "json"
    "projection.enabled"          = "true"
    "projection.dt.type"          = "date"
    "projection.dt.format"        = "yyyy-MM-dd"
    "projection.dt.range"         = "${var.projection_start_date},NOW"
    "projection.dt.interval"      = "1"
    "projection.dt.interval.unit" = "DAYS"
    "projection.hour.type"        = "integer"
    "projection.hour.range"       = "0,23"
    "projection.hour.digits"      = "2"
    "storage.location.template"   = "${local.lake_location}dt=$${dt}/hour=$${hour}/"
  }

  partition_keys {
    name = "dt"
    type = "string"
  }

  partition_keys {
    name = "hour"
    type = "string"
  }

  storage_descriptor {
    location      = local.lake_location
    input_format  = "org.apache.hadoop.mapred.TextInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"

    ser_de_info {
      name                  = "alerts-json"
      serialization_library = "org.openx.data.jsonserde.JsonSerDe"
      parameters = {
        "ignore.malformed.json" = "true"
      }
    }

    dynamic "columns" {
      for_each = local.columns
      content {
        name = columns.value.name
        type = columns.value.type
      }
    }
  }
}

resource "aws_athena_workgroup" "this" {
  name          = var.workgroup_name
  description   = "Queries over the alerts lake; results encrypted, configuration enforced."
  force_destroy = var.force_destroy

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff_per_query

    result_configuration {
      output_location = "s3://${var.results_bucket_name}/"

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }

  tags = var.tags
}
