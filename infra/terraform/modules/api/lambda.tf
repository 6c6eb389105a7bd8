# The API Lambda (lambdas/api/, zipped by `make package` as build/package/api.zip). While
# var.api_lambda_zip is null the API has its authorizer but no routes.

locals {
  # The Glue catalog's ARNs: a backtest reads the tables `decisions` and `labels`
  # (modules/archive, under the prefixes decisions/ and labels/; rules/backtest.py's
  # AthenaEngine names the same).
  glue_arn_prefix = "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}"

  # lambdas/api/config.py reads these (tests/test_api_terraform.py keeps them equal).
  api_environment = {
    ALERTS_TABLE                  = var.alerts_table_name
    LABELS_STREAM                 = var.labels_stream_name
    JWT_ISSUER                    = "https://${aws_cognito_user_pool.this.endpoint}"
    JWT_AUDIENCE                  = aws_cognito_user_pool_client.console.id
    AUDIT_BUCKET                  = aws_s3_bucket.audit.bucket
    LABEL_LEDGER_TABLE            = aws_dynamodb_table.ledger.name
    LABEL_HOLD_SECONDS            = tostring(var.label_hold_seconds)
    ANALYST_VERDICT_QUOTA         = tostring(var.analyst_verdict_quota)
    ANALYST_TERMINAL_LABEL_BUDGET = tostring(var.analyst_terminal_label_budget)
    ALERT_HISTORY_CAP             = tostring(var.alert_history_cap)
    RULES_ROOT                    = "s3://${var.rules_bucket_name}/${trimsuffix(var.rules_prefix, "/")}"
    RULE_CHANGES_TABLE            = aws_dynamodb_table.changes.name
    ANALYST_CHANGE_QUOTA          = tostring(var.analyst_change_quota)
    BACKTEST_ENGINE               = "athena"
    DECISIONS_ROOT                = "s3://${var.archive_bucket_name}"
    ATHENA_WORKGROUP              = var.athena_workgroup_name
    ATHENA_DATABASE               = var.glue_database_name
    ATHENA_OUTPUT_LOCATION        = "" # the workgroup's (it enforces its configuration)
    ATHENA_TIMEOUT_SECONDS        = tostring(var.athena_timeout_seconds)
    BACKTEST_LABEL_DELAY_DAYS     = tostring(var.backtest_label_delay_days)
    POWERTOOLS_SERVICE_NAME       = "api"
  }
}

resource "aws_cloudwatch_log_group" "lambda" {
  count = local.with_lambda ? 1 : 0

  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sqs_queue" "async_failures" {
  count = local.with_lambda ? 1 : 0

  name                      = "${var.name}-async-dlq"
  message_retention_seconds = 1209600
  kms_master_key_id         = var.kms_key_arn
  tags                      = var.tags
}

resource "aws_lambda_function" "api" {
  # checkov:skip=CKV_AWS_117:The API calls only AWS APIs (DynamoDB, Kinesis); a VPC would add NAT or endpoint cost and no isolation benefit.
  # checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signing step in CI; the zip is built reproducibly by infra/package.py and pinned by source_code_hash.
  # checkov:skip=CKV_AWS_115:Reserved concurrency is off by default (var.lambda_reserved_concurrency in the root): a new account's quota of 10 with 100 kept unreserved makes any reservation fail the apply.
  # checkov:skip=CKV_AWS_50:X-Ray write actions cannot be scoped to a resource and the project requires every IAM statement to name one; API Gateway access logs and Powertools logs carry the request trace.
  count = local.with_lambda ? 1 : 0

  function_name                  = var.name
  description                    = "Alerts, analyst feedback (to the labels stream) and metrics"
  role                           = module.lambda_role[0].arn
  filename                       = var.api_lambda_zip
  source_code_hash               = fileexists(var.api_lambda_zip) ? filebase64sha256(var.api_lambda_zip) : null
  handler                        = var.api_handler
  runtime                        = var.lambda_runtime
  architectures                  = ["x86_64"]
  memory_size                    = 256
  timeout                        = 30 # a backtest waits up to ATHENA_TIMEOUT_SECONDS for Athena
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = local.api_environment
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.async_failures[0].arn
  }

  tags       = var.tags
  depends_on = [aws_cloudwatch_log_group.lambda, module.lambda_role]

  # terraform destroy needs no zip; create and update do.
  lifecycle {
    precondition {
      condition     = fileexists(var.api_lambda_zip)
      error_message = "${var.api_lambda_zip} is missing: run `make package` first."
    }
  }
}

resource "aws_lambda_permission" "api" {
  count = local.with_lambda ? 1 : 0

  statement_id  = "AllowHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.api[0].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}

data "aws_iam_policy_document" "lambda" {
  statement {
    sid       = "ReadAlerts"
    actions   = ["dynamodb:GetItem", "dynamodb:Query"]
    resources = [var.alerts_table_arn, "${var.alerts_table_arn}/index/*"]
  }

  statement {
    sid       = "RecordVerdict"
    actions   = ["dynamodb:UpdateItem"]
    resources = [var.alerts_table_arn]
  }

  statement {
    sid       = "LabelLedger"
    actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:GetItem"]
    resources = [aws_dynamodb_table.ledger.arn, "${aws_dynamodb_table.ledger.arn}/index/*"]
  }

  # The audit trail: add, never change or delete (Object Lock enforces the rest); read back
  # only the rules' and lists' records (GET /rules/{name}/history), never the verdicts'.
  statement {
    sid       = "AppendAudit"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.audit.arn}/verdicts/*", "${aws_s3_bucket.audit.arn}/rules/*"]
  }

  statement {
    sid       = "ReadRuleAudit"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.audit.arn}/rules/*"]
  }

  statement {
    sid       = "ListRuleAudit"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.audit.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["rules/*"]
    }
  }

  # The rule registry the job polls (rules.path): read and add versions, move pointers.
  statement {
    sid       = "RuleRegistry"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${var.rules_bucket_arn}/${var.rules_prefix}*"]
  }

  statement {
    sid       = "ListRuleRegistry"
    actions   = ["s3:ListBucket"]
    resources = [var.rules_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.rules_prefix}*"]
    }
  }

  statement {
    sid       = "RuleChanges"
    actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:GetItem"]
    resources = [aws_dynamodb_table.changes.arn, "${aws_dynamodb_table.changes.arn}/index/*"]
  }

  statement {
    sid    = "NeverRewriteAudit"
    effect = "Deny"
    actions = [
      "s3:DeleteObject",
      "s3:DeleteObjectVersion",
      "s3:PutObjectRetention",
      "s3:PutObjectLegalHold",
      "s3:BypassGovernanceRetention",
      "s3:PutBucketObjectLockConfiguration",
      "s3:PutBucketVersioning",
      "s3:PutBucketPolicy",
      "s3:DeleteBucket",
      "s3:PutLifecycleConfiguration",
    ]
    resources = [aws_s3_bucket.audit.arn, "${aws_s3_bucket.audit.arn}/*"]
  }

  statement {
    sid       = "PublishLabels"
    actions   = ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStreamSummary"]
    resources = [var.labels_stream_arn]
  }

  # Backtests (POST /rules/backtest, GET /rules/hits): Athena queries in the workgroup over
  # the Glue tables of the decision log and the labels archive, which read their objects
  # with the caller's rights, and the query results in the workgroup's bucket.
  statement {
    sid = "RunBacktests"
    actions = [
      "athena:StartQueryExecution",
      "athena:GetQueryExecution",
      "athena:GetQueryResults",
      "athena:StopQueryExecution",
    ]
    resources = ["arn:${data.aws_partition.current.partition}:athena:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:workgroup/${var.athena_workgroup_name}"]
  }

  statement {
    sid     = "ReadBacktestTables"
    actions = ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"]
    resources = [
      "${local.glue_arn_prefix}:catalog",
      "${local.glue_arn_prefix}:database/${var.glue_database_name}",
      "${local.glue_arn_prefix}:table/${var.glue_database_name}/decisions",
      "${local.glue_arn_prefix}:table/${var.glue_database_name}/labels",
    ]
  }

  statement {
    sid       = "ReadDecisionLog"
    actions   = ["s3:GetObject"]
    resources = ["${var.archive_bucket_arn}/decisions/*", "${var.archive_bucket_arn}/labels/*"]
  }

  statement {
    sid       = "ListDecisionLog"
    actions   = ["s3:ListBucket"]
    resources = [var.archive_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["decisions/*", "labels/*"]
    }
  }

  statement {
    sid       = "BacktestResults"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${var.athena_results_bucket_arn}/*"]
  }

  statement {
    sid       = "BacktestBuckets"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket"]
    resources = [var.athena_results_bucket_arn]
  }

  statement {
    sid       = "LocateDecisionLog"
    actions   = ["s3:GetBucketLocation"]
    resources = [var.archive_bucket_arn]
  }

  statement {
    sid       = "UseDataKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "AsyncFailures"
    actions   = ["sqs:SendMessage"]
    resources = ["arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:${var.name}-async-dlq"]
  }

  statement {
    sid     = "WriteOwnLogs"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [
      "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:log-group:/aws/lambda/${var.name}:*",
      "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:log-group:/aws/lambda/${var.name}-release:*",
    ]
  }
}

module "lambda_role" {
  source = "../service_role"
  count  = local.with_lambda ? 1 : 0

  name        = "${var.name}-lambda"
  service     = "lambda.amazonaws.com"
  policy_name = "api"
  policy      = data.aws_iam_policy_document.lambda.json
  tags        = var.tags
}

# The role and its policy from before modules/service_role.
moved {
  from = aws_iam_role.lambda[0]
  to   = module.lambda_role[0].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.lambda[0]
  to   = module.lambda_role[0].aws_iam_role_policy.this
}
