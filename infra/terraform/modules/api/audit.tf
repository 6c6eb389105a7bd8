# What bounds one analyst's influence on the labels (lambdas/api/README.md, "Bounded
# influence"): the verdict audit trail (S3 Object Lock, compliance mode), the label ledger
# (holds and per-analyst counts) and the scheduled step that releases held labels.

# ---- Audit trail: append-only ---------------------------------------------------------
# Compliance mode: no one, root included, can delete a version or shorten its retention
# before it ends. The API role may only PutObject here (lambda.tf), and is explicitly denied
# deleting, re-configuring the lock or bypassing it.

resource "aws_s3_bucket" "audit" {
  # checkov:skip=CKV_AWS_144:Cross-region replication of the audit trail is a deployment choice (a second region's bucket and role); Object Lock already makes it undeletable.
  # checkov:skip=CKV2_AWS_62:Nothing consumes events of the audit bucket.
  # checkov:skip=CKV_AWS_18:Access logging would need a log bucket from the s3_bucket module's owner; CloudTrail data events are the audit of the audit trail.
  # checkov:skip=CKV2_AWS_61:Records are kept for their retention; expiring them early is what Object Lock forbids.
  bucket              = var.audit_bucket_name
  object_lock_enabled = true
  force_destroy       = false
  tags                = var.tags
}

resource "aws_s3_bucket_versioning" "audit" {
  bucket = aws_s3_bucket.audit.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_object_lock_configuration" "audit" {
  bucket = aws_s3_bucket.audit.id
  rule {
    default_retention {
      mode = "COMPLIANCE"
      days = var.audit_retention_days
    }
  }
  depends_on = [aws_s3_bucket_versioning.audit]
}

resource "aws_s3_bucket_server_side_encryption_configuration" "audit" {
  bucket = aws_s3_bucket.audit.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "audit" {
  bucket                  = aws_s3_bucket.audit.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

data "aws_iam_policy_document" "audit_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.audit.arn, "${aws_s3_bucket.audit.arn}/*"]
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

resource "aws_s3_bucket_policy" "audit" {
  bucket = aws_s3_bucket.audit.id
  policy = data.aws_iam_policy_document.audit_bucket.json
}

# ---- Label ledger ------------------------------------------------------------------------

resource "aws_dynamodb_table" "ledger" {
  name                        = var.ledger_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "actor"
  range_key                   = "entry"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "actor"
    type = "S"
  }
  attribute {
    name = "entry"
    type = "S"
  }
  attribute {
    name = "held"
    type = "S"
  }
  attribute {
    name = "release_after"
    type = "S"
  }
  attribute {
    name = "actor_terminal"
    type = "S"
  }

  global_secondary_index {
    name = "gsi_held"
    key_schema {
      attribute_name = "held"
      key_type       = "HASH"
    }
    key_schema {
      attribute_name = "release_after"
      key_type       = "RANGE"
    }
    projection_type = "ALL"
  }

  global_secondary_index {
    name = "gsi_actor_terminal"
    key_schema {
      attribute_name = "actor_terminal"
      key_type       = "HASH"
    }
    key_schema {
      attribute_name = "entry"
      key_type       = "RANGE"
    }
    projection_type = "KEYS_ONLY"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

# ---- Release of held labels ------------------------------------------------------------

resource "aws_lambda_function" "release" {
  # checkov:skip=CKV_AWS_117:The release step calls only AWS APIs (DynamoDB, Kinesis); a VPC would add NAT or endpoint cost and no isolation benefit.
  # checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signing step in CI; the zip is built reproducibly by infra/package.py and pinned by source_code_hash.
  # checkov:skip=CKV_AWS_50:X-Ray write actions cannot be scoped to a resource and the project requires every IAM statement to name one.
  # checkov:skip=CKV_AWS_116:A failed scheduled run is retried by the next one (every held label stays held until released).
  # checkov:skip=CKV_AWS_115:No reserved concurrency (a new account's quota cannot spare it); one run every 5 minutes of at most 60 s; a label two overlapping runs both release is the same label, which the job counts once per transaction.
  count = local.with_lambda ? 1 : 0

  function_name    = "${var.name}-release"
  description      = "Held analyst labels whose hold passed without a change, to the labels stream"
  role             = module.lambda_role[0].arn
  filename         = var.api_lambda_zip
  source_code_hash = fileexists(var.api_lambda_zip) ? filebase64sha256(var.api_lambda_zip) : null
  handler          = "lambdas.api.release.release_handler"
  runtime          = var.lambda_runtime
  architectures    = ["x86_64"]
  memory_size      = 256
  timeout          = 60
  kms_key_arn      = var.kms_key_arn

  environment {
    variables = local.api_environment
  }

  tags       = var.tags
  depends_on = [module.lambda_role]

  lifecycle {
    precondition {
      condition     = fileexists(var.api_lambda_zip)
      error_message = "${var.api_lambda_zip} is missing: run `make package` first."
    }
  }
}

resource "aws_cloudwatch_event_rule" "release" {
  count = local.with_lambda ? 1 : 0

  name                = "${var.name}-release"
  description         = "Release held analyst labels whose hold has passed."
  schedule_expression = var.release_schedule
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "release" {
  count = local.with_lambda ? 1 : 0

  rule = aws_cloudwatch_event_rule.release[0].name
  arn  = aws_lambda_function.release[0].arn
}

resource "aws_lambda_permission" "release" {
  count = local.with_lambda ? 1 : 0

  statement_id  = "AllowSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.release[0].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.release[0].arn
}
