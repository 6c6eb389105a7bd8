# What SageMaker training needs: an execution role that reads the training data under
# one prefix, writes model artefacts under another, logs to its own log groups, and reads
# the transaction and label archive (production history) when its bucket is given.
# model_export/ runs the same script locally or as a SageMaker training job.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  log_group_prefix = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:log-group:/aws/sagemaker/TrainingJobs"
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "ReadTrainingData"
    actions   = ["s3:GetObject"]
    resources = ["${var.bucket_arn}/${var.training_prefix}*"]
  }

  statement {
    sid       = "ListTrainingDataAndOutput"
    actions   = ["s3:ListBucket"]
    resources = [var.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.training_prefix}*", "${var.output_prefix}*"]
    }
  }

  statement {
    sid       = "WriteModelArtefacts"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]
    resources = ["${var.bucket_arn}/${var.output_prefix}*"]
  }

  # Production history for training (model_export.archive): read-only, the two record kinds.
  dynamic "statement" {
    for_each = var.archive_bucket_arn == null ? [] : [var.archive_bucket_arn]
    content {
      sid       = "ReadArchive"
      actions   = ["s3:GetObject"]
      resources = ["${statement.value}/transactions/*", "${statement.value}/labels/*"]
    }
  }

  dynamic "statement" {
    for_each = var.archive_bucket_arn == null ? [] : [var.archive_bucket_arn]
    content {
      sid       = "ListArchive"
      actions   = ["s3:ListBucket"]
      resources = [statement.value]
      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = ["transactions/*", "labels/*"]
      }
    }
  }

  statement {
    sid       = "UseDataKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "TrainingJobLogs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [local.log_group_prefix, "${local.log_group_prefix}:*"]
  }
}

module "role" {
  source = "../service_role"

  name              = "${var.name}-sagemaker"
  service           = "sagemaker.amazonaws.com"
  trust_account_key = "aws:SourceAccount"
  policy_name       = "training"
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
