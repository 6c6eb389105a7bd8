# The bucket module's two kinds, applied against a mock provider (tests/
# test_terraform_buckets.py runs it): a data bucket is SSE-KMS with a bucket key and logs
# into the access-log bucket; the access-log target is SSE-S3, not logged, and lets S3's
# log delivery write. checkov's KMS check is skipped on the shared resource for the
# target's sake, so this test is what holds data buckets to SSE-KMS.

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111111111111"
    }
  }
}

variables {
  name = "fraud-test-bucket"
}

run "data_bucket" {
  variables {
    kms_key_arn       = "arn:aws:kms:eu-west-1:111111111111:key/test"
    access_log_bucket = "fraud-access-logs-test"
    expiration_days   = 30
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    error_message = "a data bucket is SSE-KMS"
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).kms_master_key_id == var.kms_key_arn
    error_message = "a data bucket is encrypted with the project's key"
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.this.rule).bucket_key_enabled
    error_message = "a data bucket uses a bucket key"
  }
  assert {
    condition     = length(aws_s3_bucket_logging.this) == 1 && aws_s3_bucket_logging.this[0].target_bucket == var.access_log_bucket && aws_s3_bucket_logging.this[0].target_prefix == "fraud-test-bucket/"
    error_message = "a data bucket logs into the access-log bucket, under its own name"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.this.statement : s.sid] == ["DenyInsecureTransport"]
    error_message = "a data bucket's policy only denies plain HTTP"
  }
  assert {
    condition     = join(",", sort([for r in aws_s3_bucket_lifecycle_configuration.this.rule : r.id])) == "expire-current-versions,tidy-versions-and-uploads"
    error_message = "expiration_days adds the expiry rule, no transition without transition_to_ia_days"
  }
}

run "access_log_target" {
  variables {
    access_log_target                  = true
    expiration_days                    = 365
    noncurrent_version_expiration_days = 7
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "the access-log target is SSE-S3: S3 log delivery supports no SSE-KMS target"
  }
  assert {
    condition     = length(aws_s3_bucket_logging.this) == 0
    error_message = "the access-log target does not log into itself"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.this.statement : s.sid] == ["S3ServerAccessLogDelivery", "DenyInsecureTransport"]
    error_message = "S3's log delivery may write into the access-log target, over TLS only"
  }
  assert {
    condition = [
      for c in data.aws_iam_policy_document.this.statement[0].condition : [c.test, c.variable, tolist(c.values)]
    ] == [["StringEquals", "aws:SourceAccount", tolist(["111111111111"])]]
    error_message = "log delivery writes only for this account's buckets"
  }
}

run "a_data_bucket_needs_a_key_and_a_log_bucket" {
  command = plan

  variables {
    access_log_bucket = "fraud-access-logs-test"
  }

  expect_failures = [aws_s3_bucket.this]
}
