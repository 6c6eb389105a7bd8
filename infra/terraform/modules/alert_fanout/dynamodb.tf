# The alert store the API reads (key alert_id; indexes by day, card, terminal, status) and
# the per-card e-mail state (throttle window, held alerts). Schema: lambdas/alert_fanout/README.md.

resource "aws_dynamodb_table" "alerts" {
  name                        = var.alerts_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "alert_id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "alert_id"
    type = "S"
  }
  attribute {
    name = "day"
    type = "S"
  }
  attribute {
    name = "detected_at"
    type = "S"
  }
  attribute {
    name = "card_id"
    type = "S"
  }
  attribute {
    name = "terminal_id"
    type = "S"
  }
  attribute {
    name = "status"
    type = "S"
  }

  global_secondary_index {
    name = "gsi_day"
    key_schema {
      attribute_name = "day"
      key_type       = "HASH"
    }
    key_schema {
      attribute_name = "detected_at"
      key_type       = "RANGE"
    }
    projection_type = "ALL"
  }

  global_secondary_index {
    name = "gsi_card"
    key_schema {
      attribute_name = "card_id"
      key_type       = "HASH"
    }
    key_schema {
      attribute_name = "detected_at"
      key_type       = "RANGE"
    }
    projection_type = "ALL"
  }

  # The analyst API's filters by terminal and by status (lambdas/api/repository.py).
  global_secondary_index {
    name = "gsi_terminal"
    key_schema {
      attribute_name = "terminal_id"
      key_type       = "HASH"
    }
    key_schema {
      attribute_name = "detected_at"
      key_type       = "RANGE"
    }
    projection_type = "ALL"
  }

  global_secondary_index {
    name = "gsi_status"
    key_schema {
      attribute_name = "status"
      key_type       = "HASH"
    }
    key_schema {
      attribute_name = "detected_at"
      key_type       = "RANGE"
    }
    projection_type = "ALL"
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

resource "aws_dynamodb_table" "email_state" {
  name                        = var.email_state_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "card_id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "card_id"
    type = "S"
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
