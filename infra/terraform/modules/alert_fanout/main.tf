# Alert fan-out: the Lambda reading the alerts stream (partial batch failures, bisect,
# bounded retries, on-failure queue) writes each alert to the S3 lake and the DynamoDB
# alert table and e-mails high-severity ones through SES; a scheduled flush e-mails
# alerts held back by the per-card throttle. Handler code: lambdas/alert_fanout/.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  template = jsondecode(file(var.ses_template_file))
  environment = {
    ALERTS_BUCKET               = var.lake_bucket_name
    ALERTS_PREFIX               = var.lake_prefix
    ALERTS_TABLE                = aws_dynamodb_table.alerts.name
    EMAIL_STATE_TABLE           = aws_dynamodb_table.email_state.name
    EMAIL_FROM                  = var.email_from
    EMAIL_TO                    = join(",", var.email_to)
    EMAIL_MIN_SEVERITY          = var.email_min_severity
    EMAIL_CARD_INTERVAL_SECONDS = tostring(var.email_card_interval_seconds)
    CONSOLE_BASE_URL            = var.console_base_url
    SES_TEMPLATE                = aws_ses_template.alert.name
    EMAIL_RENDERING             = var.email_rendering
    DEADLETTER_QUEUE_URL        = aws_sqs_queue.on_failure.url
    POWERTOOLS_SERVICE_NAME     = "alert-fanout"
    POWERTOOLS_LOG_LEVEL        = var.log_level
  }
  functions = {
    fanout = "lambdas.alert_fanout.handler.lambda_handler"
    flush  = "lambdas.alert_fanout.handler.flush_handler"
  }
}

resource "aws_sqs_queue" "on_failure" {
  name                      = "${var.name}-dlq"
  message_retention_seconds = 1209600
  kms_master_key_id         = var.kms_key_arn
  tags                      = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = local.functions

  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_117:The function calls only AWS APIs (Kinesis, S3, DynamoDB, SES, SQS); a VPC would add NAT or endpoint cost and no isolation benefit.
  # checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signing step in CI; the zip is built reproducibly by infra/package.py and its hash is pinned by source_code_hash.
  # checkov:skip=CKV_AWS_50:X-Ray write actions cannot be scoped to a resource and the project requires every IAM statement to name one; Powertools structured logs and EMF metrics carry the per-record trace.
  # checkov:skip=CKV_AWS_115:Reserved concurrency is off by default (var.lambda_reserved_concurrency in the root): a new account's quota of 10 with 100 kept unreserved makes any reservation fail the apply.
  for_each = local.functions

  function_name                  = "${var.name}-${each.key}"
  description                    = each.key == "fanout" ? "Alert v1 from Kinesis to S3 lake, DynamoDB and SES" : "E-mails alerts held back by the per-card throttle"
  role                           = module.role.arn
  filename                       = var.lambda_zip
  source_code_hash               = fileexists(var.lambda_zip) ? filebase64sha256(var.lambda_zip) : null
  handler                        = each.value
  runtime                        = var.lambda_runtime
  architectures                  = ["x86_64"]
  memory_size                    = 256
  timeout                        = each.key == "fanout" ? 60 : 300
  reserved_concurrent_executions = each.key == "fanout" ? var.reserved_concurrency : var.flush_reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = local.environment
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.on_failure.arn
  }

  tags       = var.tags
  depends_on = [aws_cloudwatch_log_group.this, module.role]

  # terraform destroy needs no zip; create and update do.
  lifecycle {
    precondition {
      condition     = fileexists(var.lambda_zip)
      error_message = "${var.lambda_zip} is missing: run `make package` first."
    }
  }
}

resource "aws_lambda_event_source_mapping" "alerts" {
  event_source_arn                   = var.alerts_stream_arn
  function_name                      = aws_lambda_function.this["fanout"].arn
  starting_position                  = var.starting_position
  batch_size                         = 100
  maximum_batching_window_in_seconds = 1
  parallelization_factor             = 1
  function_response_types            = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error     = true
  maximum_retry_attempts             = 10
  maximum_record_age_in_seconds      = 3600

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.on_failure.arn
    }
  }
}

resource "aws_cloudwatch_event_rule" "flush" {
  name                = "${var.name}-flush"
  description         = "E-mail alerts held for cards whose throttle interval has ended."
  schedule_expression = var.flush_schedule
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "flush" {
  rule = aws_cloudwatch_event_rule.flush.name
  arn  = aws_lambda_function.this["flush"].arn
}

resource "aws_lambda_permission" "flush" {
  statement_id  = "AllowEventBridgeSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["flush"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.flush.arn
}
