# QuickSight reads the lake through the Athena workgroup. Needs a QuickSight Enterprise
# subscription whose service role may read the lake and results buckets and use the KMS
# key (QuickSight console: Security & permissions); hence off by default.
# The row-level data set below is for ad-hoc analyses; the dashboard and its per-figure
# data sets are in dashboard.tf.

locals {
  # Empty only when QuickSight is off, or on without an owner: then the data source's
  # precondition stops the plan with a message saying so.
  quicksight_owner = var.quicksight_principal_arn == null ? "" : var.quicksight_principal_arn

  quicksight_data_source_actions = [
    "quicksight:DescribeDataSource",
    "quicksight:DescribeDataSourcePermissions",
    "quicksight:PassDataSource",
    "quicksight:UpdateDataSource",
    "quicksight:UpdateDataSourcePermissions",
    "quicksight:DeleteDataSource",
  ]
  quicksight_data_set_actions = [
    "quicksight:DescribeDataSet",
    "quicksight:DescribeDataSetPermissions",
    "quicksight:PassDataSet",
    "quicksight:DescribeIngestion",
    "quicksight:ListIngestions",
    "quicksight:UpdateDataSet",
    "quicksight:UpdateDataSetPermissions",
    "quicksight:DeleteDataSet",
    "quicksight:CreateIngestion",
    "quicksight:CancelIngestion",
  ]
}

resource "aws_quicksight_data_source" "athena" {
  count = var.enable_quicksight ? 1 : 0

  data_source_id = "${var.workgroup_name}-athena"
  name           = "Fraud alerts (Athena)"
  type           = "ATHENA"

  parameters {
    athena {
      work_group = aws_athena_workgroup.this.name
    }
  }

  ssl_properties {
    disable_ssl = false
  }

  permission {
    principal = local.quicksight_owner
    actions   = local.quicksight_data_source_actions
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.quicksight_principal_arn != null
      error_message = "enable_quicksight needs quicksight_principal_arn: the QuickSight user or group that owns the data source, data sets, analysis and dashboard."
    }
  }
}

resource "aws_quicksight_data_set" "alerts" {
  count = var.enable_quicksight ? 1 : 0

  data_set_id = "${var.workgroup_name}-alerts"
  name        = "Fraud alerts"
  import_mode = "DIRECT_QUERY"

  physical_table_map {
    physical_table_map_id = "alerts"

    custom_sql {
      data_source_arn = aws_quicksight_data_source.athena[0].arn
      name            = "alerts"
      sql_query       = <<-SQL
        SELECT alert_id, transaction_id, card_id, terminal_id, amount, currency,
               merchant_category, country, channel, score, threshold, severity,
               model_version, element_at(reasons, 1) AS top_reason,
               element_at(reason_codes, 1) AS top_reason_code, late,
               from_iso8601_timestamp(event_time) AS event_time,
               from_iso8601_timestamp(detected_at) AS detected_at,
               date_diff('millisecond', from_iso8601_timestamp(ingested_at),
                         from_iso8601_timestamp(detected_at)) AS detection_latency_ms,
               dt
        FROM "${aws_glue_catalog_database.this.name}"."${aws_glue_catalog_table.alerts.name}"
      SQL

      columns {
        name = "alert_id"
        type = "STRING"
      }
      columns {
        name = "transaction_id"
        type = "STRING"
      }
      columns {
        name = "card_id"
        type = "STRING"
      }
      columns {
        name = "terminal_id"
        type = "STRING"
      }
      columns {
        name = "amount"
        type = "DECIMAL"
      }
      columns {
        name = "currency"
        type = "STRING"
      }
      columns {
        name = "merchant_category"
        type = "STRING"
      }
      columns {
        name = "country"
        type = "STRING"
      }
      columns {
        name = "channel"
        type = "STRING"
      }
      columns {
        name = "score"
        type = "DECIMAL"
      }
      columns {
        name = "threshold"
        type = "DECIMAL"
      }
      columns {
        name = "severity"
        type = "STRING"
      }
      columns {
        name = "model_version"
        type = "STRING"
      }
      columns {
        name = "top_reason"
        type = "STRING"
      }
      columns {
        name = "top_reason_code"
        type = "STRING"
      }
      columns {
        name = "late"
        type = "BOOLEAN"
      }
      columns {
        name = "event_time"
        type = "DATETIME"
      }
      columns {
        name = "detected_at"
        type = "DATETIME"
      }
      columns {
        name = "detection_latency_ms"
        type = "INTEGER"
      }
      columns {
        name = "dt"
        type = "STRING"
      }
    }
  }

  permissions {
    principal = local.quicksight_owner
    actions   = local.quicksight_data_set_actions
  }

  tags = var.tags
}
