locals {
  glue_arn_prefix = "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}"
}

# ---- Firehose: read the streams, the Glue schema, write the bucket ------------------

data "aws_iam_policy_document" "firehose" {
  statement {
    sid = "ReadStreams"
    actions = [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:GetRecords",
      "kinesis:GetShardIterator",
      "kinesis:ListShards",
    ]
    resources = [var.stream_arns["transactions"], var.stream_arns["labels"], var.decisions_stream_arn]
  }

  statement {
    sid = "WriteArchive"
    actions = [
      "s3:AbortMultipartUpload",
      "s3:GetBucketLocation",
      "s3:GetObject",
      "s3:ListBucket",
      "s3:ListBucketMultipartUploads",
      "s3:PutObject",
    ]
    resources = [module.bucket.arn, "${module.bucket.arn}/*"]
  }

  statement {
    sid     = "ReadTableSchemas"
    actions = ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"]
    resources = [
      "${local.glue_arn_prefix}:catalog",
      "${local.glue_arn_prefix}:database/${var.database_name}",
      "${local.glue_arn_prefix}:table/${var.database_name}/transactions",
      "${local.glue_arn_prefix}:table/${var.database_name}/labels",
      "${local.glue_arn_prefix}:table/${var.database_name}/decisions",
    ]
  }

  statement {
    sid       = "MaskCardNumbers"
    actions   = ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"]
    resources = [aws_lambda_function.mask.arn, "${aws_lambda_function.mask.arn}:*"]
  }

  statement {
    sid       = "UseKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "WriteDeliveryLogs"
    actions   = ["logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.firehose.arn}:*"]
  }
}

module "firehose_role" {
  source = "../service_role"

  name              = "${var.name}-archive-firehose"
  service           = "firehose.amazonaws.com"
  trust_account_key = "sts:ExternalId"
  policy_name       = "archive-firehose"
  policy            = data.aws_iam_policy_document.firehose.json
  tags              = var.tags
}

# ---- The masking Lambda: its own logs only ----------------------------------------------

data "aws_iam_policy_document" "mask" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.mask.arn}:*"]
  }
}

module "mask_role" {
  source = "../service_role"

  name        = "${var.name}-archive-mask"
  service     = "lambda.amazonaws.com"
  policy_name = "archive-mask"
  policy      = data.aws_iam_policy_document.mask.json
  tags        = var.tags
}

# The roles and their policies from before modules/service_role.
moved {
  from = aws_iam_role.firehose
  to   = module.firehose_role.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.firehose
  to   = module.firehose_role.aws_iam_role_policy.this
}

moved {
  from = aws_iam_role.mask
  to   = module.mask_role.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.mask
  to   = module.mask_role.aws_iam_role_policy.this
}
