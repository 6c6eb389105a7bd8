# The project's one bucket module: a private bucket, versioned, public access blocked,
# owner-enforced, TLS-only, with lifecycle rules. Two kinds:
# - a data bucket (the default): SSE-KMS with a bucket key, access-logged into
#   `access_log_bucket`;
# - the access-log target (`access_log_target = true`), which receives the data buckets'
#   server access logs: SSE-S3, because S3 log delivery supports no SSE-KMS target; not
#   logged itself, which would loop; S3's log delivery may write into it.

data "aws_caller_identity" "current" {}

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_144:Cross-region replication doubles storage cost; the data is re-creatable (models are retrained, the lake is a copy of DynamoDB and the streams) - enable per environment when required.
  # checkov:skip=CKV2_AWS_62:No consumer of S3 event notifications exists; the lake is read through Athena's partition projection.
  # checkov:skip=CKV_AWS_145:Only the access-log target is SSE-S3, as S3 log delivery takes no SSE-KMS target; tests/bucket.tftest.hcl holds every other bucket to SSE-KMS.
  bucket        = var.name
  force_destroy = var.force_destroy
  tags          = var.tags

  lifecycle {
    precondition {
      condition     = var.access_log_target || (var.kms_key_arn != null && var.access_log_bucket != null)
      error_message = "A data bucket needs kms_key_arn and access_log_bucket (only the access-log target has neither)."
    }
  }
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.access_log_target ? "AES256" : "aws:kms"
      kms_master_key_id = var.access_log_target ? null : var.kms_key_arn
    }
    bucket_key_enabled = var.access_log_target ? null : true
  }
}

resource "aws_s3_bucket_logging" "this" {
  count         = var.access_log_target ? 0 : 1
  bucket        = aws_s3_bucket.this.id
  target_bucket = var.access_log_bucket
  target_prefix = "${var.name}/"
}

# The data buckets' logging from before it had a count.
moved {
  from = aws_s3_bucket_logging.this
  to   = aws_s3_bucket_logging.this[0]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "tidy-versions-and-uploads"
    status = "Enabled"
    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
  }

  dynamic "rule" {
    for_each = var.transition_to_ia_days == null ? [] : [var.transition_to_ia_days]
    content {
      id     = "infrequent-access"
      status = "Enabled"
      filter {}

      abort_incomplete_multipart_upload {
        days_after_initiation = 7
      }

      transition {
        days          = rule.value
        storage_class = "STANDARD_IA"
      }
    }
  }

  dynamic "rule" {
    for_each = var.expiration_days == null ? [] : [var.expiration_days]
    content {
      id     = "expire-current-versions"
      status = "Enabled"
      filter {}

      abort_incomplete_multipart_upload {
        days_after_initiation = 7
      }

      expiration {
        days = rule.value
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "this" {
  source_policy_documents = var.extra_policy_documents

  dynamic "statement" {
    for_each = var.access_log_target ? ["S3ServerAccessLogDelivery"] : []
    content {
      sid       = statement.value
      actions   = ["s3:PutObject"]
      resources = ["${aws_s3_bucket.this.arn}/*"]
      principals {
        type        = "Service"
        identifiers = ["logging.s3.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [data.aws_caller_identity.current.account_id]
      }
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket     = aws_s3_bucket.this.id
  policy     = data.aws_iam_policy_document.this.json
  depends_on = [aws_s3_bucket_public_access_block.this]
}
