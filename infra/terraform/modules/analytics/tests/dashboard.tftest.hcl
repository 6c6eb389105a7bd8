# Plans the module against the AWS provider's real schema, no account (mock provider): the
# QuickSight resources exist only behind the flag, each figure's SQL file renders into its
# data set, and the principals are required and validated.

mock_provider "aws" {}

variables {
  lake_bucket_name    = "fraud-alerts-lake-test"
  workgroup_name      = "fraud-test"
  results_bucket_name = "fraud-athena-results-test"
  kms_key_arn         = "arn:aws:kms:us-east-1:111111111111:key/test"
}

run "quicksight_off_creates_none_of_it" {
  command = plan

  assert {
    condition     = length(aws_quicksight_data_set.figure) == 0 && length(aws_quicksight_dashboard.alerts) == 0 && length(aws_quicksight_analysis.alerts) == 0 && length(aws_quicksight_template.alerts) == 0
    error_message = "QuickSight resources must wait for enable_quicksight"
  }
}

run "quicksight_on_plans_one_data_set_per_figure_and_the_dashboard" {
  command = plan

  variables {
    enable_quicksight                = true
    quicksight_principal_arn         = "arn:aws:quicksight:us-east-1:111111111111:user/default/analyst"
    quicksight_dashboard_reader_arns = ["arn:aws:quicksight:us-east-1:111111111111:group/default/readers"]
  }

  assert {
    condition     = toset(keys(aws_quicksight_data_set.figure)) == toset(["alerts_by_hour", "top_reason_codes", "top_terminals", "top_merchant_categories", "amount_bands", "model_versions"])
    error_message = "one data set per figure"
  }

  assert {
    condition = alltrue([
      for name, data_set in aws_quicksight_data_set.figure : alltrue([
        for table in data_set.physical_table_map : strcontains(table.custom_sql[0].sql_query, "\"fraud\".\"alerts\"") && !strcontains(table.custom_sql[0].sql_query, "$${")
      ])
    ])
    error_message = "each figure's SQL reads the Glue table, with no placeholder left"
  }

  assert {
    condition     = length(aws_quicksight_dashboard.alerts) == 1 && length(aws_quicksight_dashboard.alerts[0].permissions) == 2
    error_message = "the dashboard has its owner and one reader"
  }

  assert {
    condition     = length(aws_quicksight_analysis.alerts[0].definition[0].sheets[0].visuals) == 6
    error_message = "the sheet has six visuals"
  }

  assert {
    condition     = length(aws_quicksight_template.alerts) == 1 && length(aws_quicksight_template.alerts[0].source_entity[0].source_analysis[0].data_set_references) == 6 && length(aws_quicksight_dashboard.alerts[0].source_entity[0].source_template[0].data_set_references) == 6
    error_message = "the dashboard is published from the analysis's template, with the six figures' data sets"
  }
}

run "quicksight_on_without_a_principal_is_refused" {
  command = plan

  variables {
    enable_quicksight = true
  }

  expect_failures = [aws_quicksight_data_source.athena]
}

run "a_reader_that_is_not_a_quicksight_principal_is_refused" {
  command = plan

  variables {
    quicksight_dashboard_reader_arns = ["arn:aws:iam::111111111111:user/analyst"]
  }

  expect_failures = [var.quicksight_dashboard_reader_arns]
}
