data "aws_iam_policy_document" "this" {
  statement {
    sid       = "ReadApplicationCode"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${var.artifacts_bucket_arn}/${var.code_key}"]
  }

  statement {
    sid       = "ReadModelRegistry"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${var.artifacts_bucket_arn}/${var.model_prefix}*"]
  }

  statement {
    sid       = "ListModelRegistry"
    actions   = ["s3:ListBucket"]
    resources = [var.artifacts_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.model_prefix}*"]
    }
  }

  statement {
    sid       = "ReadRuleRegistry"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${var.artifacts_bucket_arn}/${var.rules_prefix}*"]
  }

  statement {
    # without it, a key not published yet (no rule set) answers 403 instead of 404
    sid       = "ListRuleRegistry"
    actions   = ["s3:ListBucket"]
    resources = [var.artifacts_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.rules_prefix}*"]
    }
  }

  statement {
    sid = "ReadSourceStreams"
    actions = [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:GetRecords",
      "kinesis:GetShardIterator",
      "kinesis:ListShards",
    ]
    resources = [var.transactions_stream_arn, var.labels_stream_arn]
  }

  # Enhanced fan-out (var.enhanced_fan_out): the connector registers its consumer on the
  # transactions stream and subscribes to the shards through it.
  dynamic "statement" {
    for_each = var.enhanced_fan_out ? ["on"] : []
    content {
      sid = "RegisterFanOutConsumer"
      actions = [
        "kinesis:DescribeStreamConsumer",
        "kinesis:ListStreamConsumers",
        "kinesis:RegisterStreamConsumer",
      ]
      resources = [var.transactions_stream_arn]
    }
  }

  dynamic "statement" {
    for_each = var.enhanced_fan_out ? ["on"] : []
    content {
      sid = "SubscribeThroughFanOutConsumer"
      actions = [
        "kinesis:DescribeStreamConsumer",
        "kinesis:SubscribeToShard",
      ]
      resources = ["${var.transactions_stream_arn}/consumer/${local.efo_consumer}:*"]
    }
  }

  statement {
    sid = "WriteOutputStreams"
    actions = [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:ListShards",
      "kinesis:PutRecord",
      "kinesis:PutRecords",
    ]
    resources = [var.alerts_stream_arn, var.deadletter_stream_arn, var.decisions_stream_arn]
  }

  statement {
    sid       = "UseDataKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "DescribeOwnLogGroup"
    actions   = ["logs:DescribeLogGroups", "logs:DescribeLogStreams"]
    resources = [aws_cloudwatch_log_group.this.arn, "${aws_cloudwatch_log_group.this.arn}:*"]
  }

  statement {
    sid       = "WriteOwnLogStream"
    actions   = ["logs:PutLogEvents"]
    resources = [aws_cloudwatch_log_stream.this.arn]
  }
}

module "role" {
  source = "../service_role"

  name              = "${var.name}-flink"
  service           = "kinesisanalytics.amazonaws.com"
  trust_account_key = "aws:SourceAccount"
  policy_name       = "flink-job"
  policy            = data.aws_iam_policy_document.this.json
  tags              = var.tags
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
