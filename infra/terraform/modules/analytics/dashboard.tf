# The alerts dashboard as code: one QuickSight data set per figure, whose custom SQL is the
# figure's file in figures/ (the same query the local insights page runs with DuckDB:
# `python -m local.insights`), an analysis for authors and a dashboard for readers published
# from it through a template, as QuickSight publishes (the definition is written once, in the
# analysis; tests/test_terraform_dashboard.py holds every column a visual names against the
# columns its data set declares).
# Reviewed precision is not here: analysts' verdicts are in DynamoDB, which the Athena data
# source cannot read (see infra/README.md).

locals {
  alerts_table_sql = "\"${aws_glue_catalog_database.this.name}\".\"${aws_glue_catalog_table.alerts.name}\""

  # Columns each figure's SQL returns, as QuickSight types (DuckDB returns the same names).
  figures = {
    alerts_by_hour = [
      { name = "alert_hour", type = "DATETIME" },
      { name = "severity", type = "STRING" },
      { name = "alert_count", type = "INTEGER" },
    ]
    top_reason_codes = [
      { name = "reason_code", type = "STRING" },
      { name = "alert_count", type = "INTEGER" },
    ]
    top_terminals = [
      { name = "terminal_id", type = "STRING" },
      { name = "alert_count", type = "INTEGER" },
      { name = "card_count", type = "INTEGER" },
    ]
    top_merchant_categories = [
      { name = "merchant_category", type = "STRING" },
      { name = "alert_count", type = "INTEGER" },
    ]
    amount_bands = [
      { name = "band_order", type = "INTEGER" },
      { name = "amount_band", type = "STRING" },
      { name = "alert_count", type = "INTEGER" },
      { name = "amount_total", type = "DECIMAL" },
    ]
    model_versions = [
      { name = "model_version", type = "STRING" },
      { name = "alert_count", type = "INTEGER" },
      { name = "first_alert", type = "STRING" },
      { name = "last_alert", type = "STRING" },
      { name = "mean_score", type = "DECIMAL" },
      { name = "threshold", type = "DECIMAL" },
    ]
  }

  line_charts = [
    {
      id       = "alerts-by-hour"
      title    = "Alerts over time, by severity"
      data_set = "alerts_by_hour"
      time     = "alert_hour"
      colour   = "severity"
      value    = "alert_count"
    },
  ]

  bar_charts = [
    {
      id               = "top-reason-codes"
      title            = "Top reason codes"
      data_set         = "top_reason_codes"
      category         = "reason_code"
      value            = "alert_count"
      sort_by          = "alert_count"
      sort_direction   = "DESC"
      sort_aggregation = "SUM"
    },
    {
      id               = "top-terminals"
      title            = "Terminals with most alerts"
      data_set         = "top_terminals"
      category         = "terminal_id"
      value            = "alert_count"
      sort_by          = "alert_count"
      sort_direction   = "DESC"
      sort_aggregation = "SUM"
    },
    {
      id               = "top-merchant-categories"
      title            = "Merchant categories with most alerts"
      data_set         = "top_merchant_categories"
      category         = "merchant_category"
      value            = "alert_count"
      sort_by          = "alert_count"
      sort_direction   = "DESC"
      sort_aggregation = "SUM"
    },
    {
      id               = "amount-bands"
      title            = "Alerts by amount band"
      data_set         = "amount_bands"
      category         = "amount_band"
      value            = "alert_count"
      sort_by          = "band_order"
      sort_direction   = "ASC"
      sort_aggregation = "MIN"
    },
  ]

  table_visuals = [
    {
      id       = "model-versions"
      title    = "Model versions in service"
      data_set = "model_versions"
      group_by = ["model_version", "first_alert", "last_alert"]
      measures = [
        { column = "alert_count", aggregation = "SUM" },
        { column = "mean_score", aggregation = "AVERAGE" },
        { column = "threshold", aggregation = "MAX" },
      ]
    },
  ]

  # The sheet's version: what the analysis's definition is made of (the visuals, the layout
  # and this file's blocks), for the template and the dashboard to follow it.
  sheet_version = substr(sha1(jsonencode([
    local.line_charts, local.bar_charts, local.table_visuals, local.dashboard_layout,
    filesha1("${path.module}/dashboard.tf"),
  ])), 0, 12)

  # The sheet's grid is 36 columns wide: the time series across, the bars in pairs.
  dashboard_layout = [
    { id = "alerts-by-hour", column_span = 36, row_span = 10 },
    { id = "top-reason-codes", column_span = 18, row_span = 10 },
    { id = "top-terminals", column_span = 18, row_span = 10 },
    { id = "top-merchant-categories", column_span = 18, row_span = 10 },
    { id = "amount-bands", column_span = 18, row_span = 10 },
    { id = "model-versions", column_span = 36, row_span = 8 },
  ]

  quicksight_analysis_actions = [
    "quicksight:DescribeAnalysis",
    "quicksight:DescribeAnalysisPermissions",
    "quicksight:QueryAnalysis",
    "quicksight:UpdateAnalysis",
    "quicksight:UpdateAnalysisPermissions",
    "quicksight:DeleteAnalysis",
    "quicksight:RestoreAnalysis",
  ]
  quicksight_template_actions = [
    "quicksight:DescribeTemplate",
    "quicksight:DescribeTemplatePermissions",
    "quicksight:UpdateTemplate",
    "quicksight:UpdateTemplatePermissions",
    "quicksight:DeleteTemplate",
  ]
  quicksight_dashboard_owner_actions = [
    "quicksight:DescribeDashboard",
    "quicksight:ListDashboardVersions",
    "quicksight:QueryDashboard",
    "quicksight:UpdateDashboard",
    "quicksight:UpdateDashboardPublishedVersion",
    "quicksight:DescribeDashboardPermissions",
    "quicksight:UpdateDashboardPermissions",
    "quicksight:DeleteDashboard",
  ]
  quicksight_dashboard_reader_actions = [
    "quicksight:DescribeDashboard",
    "quicksight:ListDashboardVersions",
    "quicksight:QueryDashboard",
  ]
}

resource "aws_quicksight_data_set" "figure" {
  for_each = var.enable_quicksight ? local.figures : {}

  data_set_id = "${var.workgroup_name}-${replace(each.key, "_", "-")}"
  name        = "Fraud alerts: ${replace(each.key, "_", " ")}"
  import_mode = "DIRECT_QUERY"

  physical_table_map {
    physical_table_map_id = each.key

    custom_sql {
      data_source_arn = aws_quicksight_data_source.athena[0].arn
      name            = each.key
      sql_query       = templatefile("${path.module}/figures/${each.key}.sql", { alerts = local.alerts_table_sql })

      dynamic "columns" {
        for_each = each.value
        content {
          name = columns.value.name
          type = columns.value.type
        }
      }
    }
  }

  permissions {
    principal = local.quicksight_owner
    actions   = local.quicksight_data_set_actions
  }

  tags = var.tags
}

resource "aws_quicksight_analysis" "alerts" {
  count = var.enable_quicksight ? 1 : 0

  analysis_id = "${var.workgroup_name}-alerts"
  name        = "Fraud alerts"

  definition {
    dynamic "data_set_identifiers_declarations" {
      for_each = aws_quicksight_data_set.figure
      content {
        identifier   = data_set_identifiers_declarations.key
        data_set_arn = data_set_identifiers_declarations.value.arn
      }
    }

    sheets {
      sheet_id = "alerts"
      name     = "Alerts"
      title    = "Fraud alerts"

      dynamic "visuals" {
        for_each = local.line_charts
        content {
          line_chart_visual {
            visual_id = visuals.value.id
            title {
              format_text {
                plain_text = visuals.value.title
              }
            }
            chart_configuration {
              field_wells {
                line_chart_aggregated_field_wells {
                  category {
                    date_dimension_field {
                      field_id         = "${visuals.value.id}-time"
                      date_granularity = "HOUR"
                      column {
                        data_set_identifier = visuals.value.data_set
                        column_name         = visuals.value.time
                      }
                    }
                  }
                  colors {
                    categorical_dimension_field {
                      field_id = "${visuals.value.id}-colour"
                      column {
                        data_set_identifier = visuals.value.data_set
                        column_name         = visuals.value.colour
                      }
                    }
                  }
                  values {
                    numerical_measure_field {
                      field_id = "${visuals.value.id}-value"
                      column {
                        data_set_identifier = visuals.value.data_set
                        column_name         = visuals.value.value
                      }
                      aggregation_function {
                        simple_numerical_aggregation = "SUM"
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }

      dynamic "visuals" {
        for_each = local.bar_charts
        content {
          bar_chart_visual {
            visual_id = visuals.value.id
            title {
              format_text {
                plain_text = visuals.value.title
              }
            }
            chart_configuration {
              orientation = "HORIZONTAL"
              field_wells {
                bar_chart_aggregated_field_wells {
                  category {
                    categorical_dimension_field {
                      field_id = "${visuals.value.id}-category"
                      column {
                        data_set_identifier = visuals.value.data_set
                        column_name         = visuals.value.category
                      }
                    }
                  }
                  values {
                    numerical_measure_field {
                      field_id = "${visuals.value.id}-value"
                      column {
                        data_set_identifier = visuals.value.data_set
                        column_name         = visuals.value.value
                      }
                      aggregation_function {
                        simple_numerical_aggregation = "SUM"
                      }
                    }
                  }
                }
              }
              sort_configuration {
                category_sort {
                  column_sort {
                    direction = visuals.value.sort_direction
                    sort_by {
                      data_set_identifier = visuals.value.data_set
                      column_name         = visuals.value.sort_by
                    }
                    aggregation_function {
                      numerical_aggregation_function {
                        simple_numerical_aggregation = visuals.value.sort_aggregation
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }

      dynamic "visuals" {
        for_each = local.table_visuals
        content {
          table_visual {
            visual_id = visuals.value.id
            title {
              format_text {
                plain_text = visuals.value.title
              }
            }
            chart_configuration {
              field_wells {
                table_aggregated_field_wells {
                  dynamic "group_by" {
                    for_each = visuals.value.group_by
                    content {
                      categorical_dimension_field {
                        field_id = "${visuals.value.id}-${group_by.value}"
                        column {
                          data_set_identifier = visuals.value.data_set
                          column_name         = group_by.value
                        }
                      }
                    }
                  }
                  dynamic "values" {
                    for_each = visuals.value.measures
                    iterator = measure
                    content {
                      numerical_measure_field {
                        field_id = "${visuals.value.id}-${measure.value.column}"
                        column {
                          data_set_identifier = visuals.value.data_set
                          column_name         = measure.value.column
                        }
                        aggregation_function {
                          simple_numerical_aggregation = measure.value.aggregation
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }

      layouts {
        configuration {
          grid_layout {
            dynamic "elements" {
              for_each = local.dashboard_layout
              content {
                element_id   = elements.value.id
                element_type = "VISUAL"
                column_span  = elements.value.column_span
                row_span     = elements.value.row_span
              }
            }
          }
        }
      }
    }
  }

  permissions {
    principal = local.quicksight_owner
    actions   = local.quicksight_analysis_actions
  }

  tags = var.tags
}

# A snapshot of the analysis's definition, from which the dashboard is published. Its version
# description names the sheet's version, so that a change to the sheet makes a new template
# version and a new dashboard version (neither would see the analysis change otherwise).
resource "aws_quicksight_template" "alerts" {
  count = var.enable_quicksight ? 1 : 0

  template_id         = "${var.workgroup_name}-alerts"
  name                = "Fraud alerts"
  version_description = "Sheet ${local.sheet_version} of the analysis ${aws_quicksight_analysis.alerts[0].analysis_id}."

  source_entity {
    source_analysis {
      arn = aws_quicksight_analysis.alerts[0].arn

      dynamic "data_set_references" {
        for_each = aws_quicksight_data_set.figure
        content {
          data_set_placeholder = data_set_references.key
          data_set_arn         = data_set_references.value.arn
        }
      }
    }
  }

  permissions {
    principal = local.quicksight_owner
    actions   = local.quicksight_template_actions
  }

  tags = var.tags
}

resource "aws_quicksight_dashboard" "alerts" {
  count = var.enable_quicksight ? 1 : 0

  dashboard_id        = "${var.workgroup_name}-alerts"
  name                = "Fraud alerts"
  version_description = "Figures of infra/terraform/modules/analytics/figures, sheet ${local.sheet_version}."

  dashboard_publish_options {
    ad_hoc_filtering_option {
      availability_status = "ENABLED"
    }
    export_to_csv_option {
      availability_status = "ENABLED"
    }
    sheet_controls_option {
      visibility_state = "EXPANDED"
    }
  }

  # Published from the analysis through its template: the definition is written once (in
  # the analysis above), as QuickSight publishes a dashboard.
  source_entity {
    source_template {
      arn = aws_quicksight_template.alerts[0].arn

      dynamic "data_set_references" {
        for_each = aws_quicksight_data_set.figure
        content {
          data_set_placeholder = data_set_references.key
          data_set_arn         = data_set_references.value.arn
        }
      }
    }
  }

  permissions {
    principal = local.quicksight_owner
    actions   = local.quicksight_dashboard_owner_actions
  }

  dynamic "permissions" {
    for_each = toset(var.quicksight_dashboard_reader_arns)
    content {
      principal = permissions.value
      actions   = local.quicksight_dashboard_reader_actions
    }
  }

  tags = var.tags
}
