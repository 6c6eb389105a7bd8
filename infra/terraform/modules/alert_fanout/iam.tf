locals {
  ses_arn_prefix = "arn:${data.aws_partition.current.partition}:ses:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}"
}

data "aws_iam_policy_document" "this" {
  statement {
    sid = "ReadAlertsStream"
    actions = [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:GetRecords",
      "kinesis:GetShardIterator",
      "kinesis:ListShards",
    ]
    resources = [var.alerts_stream_arn]
  }

  statement {
    sid       = "WriteAlertsLake"
    actions   = ["s3:PutObject"]
    resources = ["${var.lake_bucket_arn}/${var.lake_prefix}*"]
  }

  statement {
    sid       = "StoreAlerts"
    actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"]
    resources = [aws_dynamodb_table.alerts.arn, aws_dynamodb_table.email_state.arn]
  }

  statement {
    sid       = "FlushScansEmailState"
    actions   = ["dynamodb:Scan"]
    resources = [aws_dynamodb_table.email_state.arn]
  }

  statement {
    sid       = "ResumeEmailOutbox"
    actions   = ["dynamodb:GetItem"]
    resources = [aws_dynamodb_table.email_state.arn]
  }

  statement {
    sid     = "SendAlertEmail"
    actions = ["ses:SendEmail"]
    resources = [
      aws_sesv2_email_identity.sender.arn,
      aws_sesv2_configuration_set.this.arn,
      "${local.ses_arn_prefix}:template/${aws_ses_template.alert.name}",
    ]
  }

  # In the SES sandbox the recipients' identities are authorised too.
  dynamic "statement" {
    for_each = length(local.recipient_identities) > 0 ? ["SendToVerifiedRecipients"] : []
    content {
      sid       = statement.value
      actions   = ["ses:SendEmail"]
      resources = [for identity in aws_sesv2_email_identity.recipient : identity.arn]
    }
  }

  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.on_failure.arn]
  }

  statement {
    sid       = "UseDataKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid     = "WriteOwnLogs"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [
      "${aws_cloudwatch_log_group.this["fanout"].arn}:*",
      "${aws_cloudwatch_log_group.this["flush"].arn}:*",
    ]
  }
}

module "role" {
  source = "../service_role"

  name        = "${var.name}-lambda"
  service     = "lambda.amazonaws.com"
  policy_name = "alert-fanout"
  policy      = data.aws_iam_policy_document.this.json
  tags        = var.tags
}

# The role and its policy from before modules/service_role.
moved {
  from = aws_iam_role.this
  to   = module.role.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.this
  to   = module.role.aws_iam_role_policy.this
}
