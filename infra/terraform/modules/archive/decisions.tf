# The decision log: every Decision v1 record of the `decisions` stream in S3 as Parquet,
# partitioned by the day and hour of its transaction's event time (a replay's decisions land
# in their own partitions, and a decision delivered twice lands twice in the same one: the
# readers count each decision_id once, model_export.decision_log). No transformation: a
# decision holds only fields of a transaction the job accepted, and the job refuses any whose
# string fields hold a card number. Lifecycle and SSE-KMS are the bucket's.

resource "aws_glue_catalog_table" "decisions" {
  catalog_id    = data.aws_caller_identity.current.account_id # the default, named (analytics)
  name          = "decisions"
  database_name = var.database_name
  description   = "The decision log: one Decision v1 per scored transaction (non-alerts possibly sampled: weight in sample_weight), Parquet from Firehose, by day and hour of event_time (UTC). Count decisions by distinct decision_id: delivery is at least once."
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
    "projection.hour.type"        = "integer"
    "projection.hour.range"       = "0,23"
    "projection.hour.digits"      = "2"
    "storage.location.template"   = "s3://${module.bucket.name}/${local.decisions_prefix}dt=$${dt}/hour=$${hour}/"
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
    location      = "s3://${module.bucket.name}/${local.decisions_prefix}"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      name                  = "decisions-parquet"
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    }

    dynamic "columns" {
      for_each = local.decision_columns
      content {
        name = columns.value.name
        type = columns.value.type
      }
    }
  }
}

resource "aws_cloudwatch_log_stream" "decisions" {
  name           = "decisions-delivery"
  log_group_name = aws_cloudwatch_log_group.firehose.name
}

resource "aws_kinesis_firehose_delivery_stream" "decisions" {
  # checkov:skip=CKV_AWS_240:Server-side encryption of the delivery stream itself cannot be enabled with a Kinesis stream as source; the source stream is SSE-KMS and Firehose writes SSE-KMS objects with the project's key.
  # checkov:skip=CKV_AWS_241:Same as CKV_AWS_240, a Kinesis-sourced delivery stream has no encryption of its own to point at a customer key; the objects are encrypted with the project's key.
  name        = "${var.name}-decisions"
  destination = "extended_s3"

  kinesis_source_configuration {
    kinesis_stream_arn = var.decisions_stream_arn
    role_arn           = module.firehose_role.arn
  }

  extended_s3_configuration {
    role_arn            = module.firehose_role.arn
    bucket_arn          = module.bucket.arn
    kms_key_arn         = var.kms_key_arn
    prefix              = "${local.decisions_prefix}dt=!{partitionKeyFromQuery:dt}/hour=!{partitionKeyFromQuery:hour}/"
    error_output_prefix = "errors/decisions/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/"
    buffering_interval  = var.decisions_buffering_interval_s
    buffering_size      = var.buffering_size_mb

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.firehose.name
      log_stream_name = aws_cloudwatch_log_stream.decisions.name
    }

    dynamic_partitioning_configuration {
      enabled        = true
      retry_duration = 300
    }

    processing_configuration {
      enabled = true

      processors {
        type = "MetadataExtraction"

        parameters {
          parameter_name  = "JsonParsingEngine"
          parameter_value = "JQ-1.6"
        }

        parameters {
          parameter_name  = "MetadataExtractionQuery"
          parameter_value = "{dt: .event_time[0:10], hour: .event_time[11:13]}"
        }
      }
    }

    data_format_conversion_configuration {
      input_format_configuration {
        deserializer {
          open_x_json_ser_de {}
        }
      }

      output_format_configuration {
        serializer {
          parquet_ser_de {
            compression = "SNAPPY"
          }
        }
      }

      schema_configuration {
        database_name = var.database_name
        table_name    = aws_glue_catalog_table.decisions.name
        role_arn      = module.firehose_role.arn
      }
    }
  }

  tags       = var.tags
  depends_on = [module.firehose_role]
}
