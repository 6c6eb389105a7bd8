# Analysts' changes of rules and lists (lambdas/api/rulebook.py): the change requests, with
# their status and per-requester indexes (lambdas/api/changes.py; local/aws/api_resources.py
# makes the same table locally). The rule registry itself is the job's, under
# var.rules_prefix in the artifacts bucket; every step is written to the audit bucket's
# rules/ prefix (audit.tf).

resource "aws_dynamodb_table" "changes" {
  name                        = var.changes_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "change_id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "change_id"
    type = "S"
  }
  attribute {
    name = "status"
    type = "S"
  }
  attribute {
    name = "requested_at"
    type = "S"
  }
  attribute {
    name = "requested_by"
    type = "S"
  }

  global_secondary_index {
    name = "gsi_status"
    key_schema {
      attribute_name = "status"
      key_type       = "HASH"
    }
    key_schema {
      attribute_name = "requested_at"
      key_type       = "RANGE"
    }
    projection_type = "ALL"
  }

  global_secondary_index {
    name = "gsi_requester"
    key_schema {
      attribute_name = "requested_by"
      key_type       = "HASH"
    }
    key_schema {
      attribute_name = "requested_at"
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
