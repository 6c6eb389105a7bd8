# One delivery stream per record kind: Kinesis source -> masking Lambda -> day of event_time
# (JQ) -> Parquet by the Glue table's schema -> S3, SSE-KMS with the project's key.

resource "aws_cloudwatch_log_group" "firehose" {
  name              = "/aws/kinesisfirehose/${var.name}-archive"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_stream" "delivery" {
  for_each = local.columns

  name           = "${each.key}-delivery"
  log_group_name = aws_cloudwatch_log_group.firehose.name
}

resource "aws_cloudwatch_log_group" "mask" {
  name              = "/aws/lambda/${var.name}-archive-mask"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "mask" {
  # checkov:skip=CKV_AWS_117:The function only transforms the records Firehose hands it and calls no service; a VPC would add cost and no isolation.
  # checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signing step in CI; the zip is built reproducibly by infra/package.py and its hash is pinned by source_code_hash.
  # checkov:skip=CKV_AWS_50:X-Ray write actions cannot be scoped to a resource and the project requires every IAM statement to name one; Firehose logs failed transformations itself.
  # checkov:skip=CKV_AWS_173:The function has no environment variables to encrypt; kms_key_arn is set so that any added later are encrypted with the project's key.
  # checkov:skip=CKV_AWS_115:Reserved concurrency is off by default (var.lambda_reserved_concurrency in the root): a new account's quota of 10 with 100 kept unreserved makes any reservation fail the apply.
  # checkov:skip=CKV_AWS_116:Firehose invokes the function synchronously and retries it; records that still fail go to the archive's error prefix, so an async dead-letter queue would never receive anything.
  function_name                  = "${var.name}-archive-mask"
  description                    = "Masks card numbers in transactions and labels before Firehose archives them"
  role                           = module.mask_role.arn
  filename                       = var.mask_lambda_zip
  source_code_hash               = fileexists(var.mask_lambda_zip) ? filebase64sha256(var.mask_lambda_zip) : null
  handler                        = "lambdas.archive_mask.handler.handler"
  runtime                        = var.lambda_runtime
  architectures                  = ["x86_64"]
  memory_size                    = 256
  timeout                        = 60
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  tags       = var.tags
  depends_on = [aws_cloudwatch_log_group.mask, module.mask_role]

  # terraform destroy needs no zip; create and update do.
  lifecycle {
    precondition {
      condition     = fileexists(var.mask_lambda_zip)
      error_message = "${var.mask_lambda_zip} is missing: run `make package` first."
    }
  }
}

resource "aws_kinesis_firehose_delivery_stream" "archive" {
  # checkov:skip=CKV_AWS_240:Server-side encryption of the delivery stream itself cannot be enabled with a Kinesis stream as source; the source stream is SSE-KMS and Firehose writes SSE-KMS objects with the project's key.
  # checkov:skip=CKV_AWS_241:Same as CKV_AWS_240, a Kinesis-sourced delivery stream has no encryption of its own to point at a customer key; the objects are encrypted with the project's key.
  for_each = local.columns

  name        = "${var.name}-archive-${each.key}"
  destination = "extended_s3"

  kinesis_source_configuration {
    kinesis_stream_arn = var.stream_arns[each.key]
    role_arn           = module.firehose_role.arn
  }

  extended_s3_configuration {
    role_arn            = module.firehose_role.arn
    bucket_arn          = module.bucket.arn
    kms_key_arn         = var.kms_key_arn
    prefix              = "${local.prefixes[each.key]}dt=!{partitionKeyFromQuery:dt}/"
    error_output_prefix = "errors/${each.key}/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/"
    buffering_interval  = var.buffering_interval_s
    buffering_size      = var.buffering_size_mb

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.firehose.name
      log_stream_name = aws_cloudwatch_log_stream.delivery[each.key].name
    }

    dynamic_partitioning_configuration {
      enabled        = true
      retry_duration = 300
    }

    processing_configuration {
      enabled = true

      processors {
        type = "Lambda"

        parameters {
          parameter_name  = "LambdaArn"
          parameter_value = "${aws_lambda_function.mask.arn}:$LATEST"
        }
      }

      processors {
        type = "MetadataExtraction"

        parameters {
          parameter_name  = "JsonParsingEngine"
          parameter_value = "JQ-1.6"
        }

        parameters {
          parameter_name  = "MetadataExtractionQuery"
          parameter_value = "{dt: .event_time[0:10]}"
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
        table_name    = aws_glue_catalog_table.archive[each.key].name
        role_arn      = module.firehose_role.arn
      }
    }
  }

  tags       = var.tags
  depends_on = [module.firehose_role]
}
