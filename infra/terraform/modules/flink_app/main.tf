# The fraud-detection job on Managed Service for Apache Flink (runtime FLINK-1_20,
# Python 3.11): code zip from S3, the run options, the job's FraudDetection property
# group, checkpointing, parallelism with autoscaling, CloudWatch logging.

data "aws_region" "current" {}

locals {
  # The enhanced fan-out consumer the job registers on the transactions stream (LAZY, on
  # first start) when var.enhanced_fan_out is on.
  efo_consumer = "${var.name}-scorer"
  # Every key flink_job.config.KEYS names, and no other (tests/test_terraform_wiring.py).
  job_properties = {
    "aws.region"                        = data.aws_region.current.region
    "aws.endpoint"                      = ""
    "transactions.stream"               = var.transactions_stream_name
    "labels.stream"                     = var.labels_stream_name
    "labels.delay_ms"                   = tostring(var.labels_delay_ms)
    "alerts.stream"                     = var.alerts_stream_name
    "deadletter.stream"                 = var.deadletter_stream_name
    "decisions.stream"                  = var.decisions_stream_name
    "decisions.sample_rate"             = tostring(var.decisions_sample_rate)
    "source.initial_position"           = var.source_initial_position
    "source.poll_interval_ms"           = tostring(var.source_poll_interval_ms)
    "source.efo_consumer"               = var.enhanced_fan_out ? local.efo_consumer : ""
    "sink.max_buffer_ms"                = tostring(var.sink_max_buffer_ms)
    "watermark.max_out_of_orderness_ms" = tostring(var.watermark_max_out_of_orderness_ms)
    "transactions.max_future_ms"        = tostring(var.transactions_max_future_ms)
    "transactions.max_age_ms"           = tostring(var.transactions_max_age_ms)
    "transactions.max_amount"           = tostring(var.transactions_max_amount)
    "labels.max_future_ms"              = tostring(var.labels_max_future_ms)
    "model.path"                        = "s3://${var.artifacts_bucket_name}/${trimsuffix(var.model_prefix, "/")}"
    "model.poll_interval_ms"            = tostring(var.model_poll_interval_ms)
    "model.max_shadows"                 = "2"
    "model.shadow_budget_ms"            = "50"
    "rules.path"                        = "s3://${var.artifacts_bucket_name}/${trimsuffix(var.rules_prefix, "/")}"
    "rules.poll_interval_ms"            = tostring(var.rules_poll_interval_ms)
    "scoring.batch_size"                = tostring(var.scoring_batch_size)
    "scoring.bundle_time_ms"            = tostring(var.scoring_bundle_time_ms)
    "parallelism"                       = tostring(var.parallelism)
    "outputs.since_ms"                  = tostring(var.outputs_since_ms)
  }
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/kinesis-analytics/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_stream" "this" {
  name           = "application"
  log_group_name = aws_cloudwatch_log_group.this.name
}

resource "aws_s3_object" "code" {
  bucket      = var.artifacts_bucket_name
  key         = var.code_key
  source      = var.code_zip
  source_hash = fileexists(var.code_zip) ? filemd5(var.code_zip) : null
  kms_key_id  = var.kms_key_arn
  tags        = var.tags

  # terraform destroy needs no zip; create and update do.
  lifecycle {
    precondition {
      condition     = fileexists(var.code_zip)
      error_message = "${var.code_zip} is missing: run `make package` first."
    }
  }
}

resource "aws_kinesisanalyticsv2_application" "this" {
  name                   = var.name
  description            = "Real-time card-fraud detection: features, ONNX scoring, explained alerts."
  runtime_environment    = "FLINK-1_20"
  service_execution_role = module.role.arn
  start_application      = var.start_application

  application_configuration {
    application_code_configuration {
      code_content_type = "ZIPFILE"
      code_content {
        s3_content_location {
          bucket_arn     = var.artifacts_bucket_arn
          file_key       = aws_s3_object.code.key
          object_version = aws_s3_object.code.version_id
        }
      }
    }

    application_snapshot_configuration {
      snapshots_enabled = var.snapshots_enabled
    }

    environment_properties {
      property_group {
        property_group_id = "kinesis.analytics.flink.run.options"
        property_map = {
          "python"  = var.run_options.python
          "jarfile" = var.run_options.jarfile
          "pyFiles" = var.run_options.pyFiles
        }
      }

      property_group {
        property_group_id = "FraudDetection"
        property_map      = local.job_properties
      }
    }

    flink_application_configuration {
      checkpoint_configuration {
        configuration_type            = "CUSTOM"
        checkpointing_enabled         = true
        checkpoint_interval           = var.checkpoint_interval_ms
        min_pause_between_checkpoints = var.min_pause_between_checkpoints_ms
      }

      monitoring_configuration {
        configuration_type = "CUSTOM"
        log_level          = var.log_level
        metrics_level      = var.metrics_level
      }

      parallelism_configuration {
        configuration_type   = "CUSTOM"
        auto_scaling_enabled = var.auto_scaling_enabled
        parallelism          = var.parallelism
        parallelism_per_kpu  = var.parallelism_per_kpu
      }
    }

    run_configuration {
      application_restore_configuration {
        application_restore_type = "RESTORE_FROM_LATEST_SNAPSHOT"
      }
      # An update that reshapes the job graph (a new sink) gives the Kinesis sinks new
      # operator ids; their buffers (sink.max_buffer_ms of records) are then left behind.
      # tests/test_savepoint_compatibility.py holds every other state (sources, aggregates)
      # to be restored: docs/deployment.md, "Upgrading the job without losing state".
      flink_run_configuration {
        allow_non_restored_state = true
      }
    }
  }

  cloudwatch_logging_options {
    log_stream_arn = aws_cloudwatch_log_stream.this.arn
  }

  tags = var.tags
}
