data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-lambda"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

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

resource "aws_iam_role_policy" "this" {
  name   = "alert-fanout"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}
