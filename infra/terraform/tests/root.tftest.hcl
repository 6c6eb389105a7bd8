# Plans the whole root module against the hashicorp/aws provider's schema, with no account
# (mock provider): the example variables (terraform.tfvars.example) as shipped, then with
# QuickSight, on-demand streams and start_application on, then a second environment in the
# same account and region, which must share no name with the first, then with enhanced
# fan-out on. tests/
# test_terraform_checks.py runs it with the artefact paths (-var) of stand-in zips.

mock_provider "aws" {
  # Roles, key and bucket policies validate their JSON even in a plan; ARNs are built from
  # the account, partition and region, so give them the shapes AWS does.
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111111111111"
      arn        = "arn:aws:iam::111111111111:user/test"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }
  mock_data "aws_region" {
    defaults = {
      region = "eu-west-1"
    }
  }
}

variables {
  aws_region  = "eu-west-1"
  project     = "fraud-stream"
  environment = "dev"
  tags = {
    Owner      = "fraud-platform"
    CostCentre = "risk"
  }
  stream_mode             = "PROVISIONED"
  shard_count             = 1
  start_application       = false
  model_prefix            = "models/"
  source_initial_position = "LATEST"
  flink_parallelism       = 1
  flink_auto_scaling      = true
  email_from              = "fraud-alerts@example.com"
  email_to                = ["fraud-analysts@example.com"]
  email_min_severity      = "high"
  ses_verify_recipients   = true
  extra_callback_urls     = []
  alarm_emails            = ["platform-oncall@example.com"]
  enable_quicksight       = false
  force_destroy           = false
  deletion_protection     = true
}

run "example_variables_plan" {
  command = plan

  assert {
    condition     = toset(keys(output.stream_names)) == toset(["transactions", "labels", "alerts", "deadletter", "decisions"])
    error_message = "the five streams"
  }

  assert {
    condition     = output.flink_job_properties["decisions.stream"] == output.stream_names["decisions"] && output.flink_job_properties["decisions.sample_rate"] == "1"
    error_message = "the job writes every decision to the decisions stream Terraform creates"
  }

  assert {
    condition     = output.flink_job_properties["transactions.stream"] == output.stream_names["transactions"]
    error_message = "the job reads the transactions stream Terraform creates"
  }

  assert {
    condition     = output.quicksight_dashboard_id == null
    error_message = "no dashboard without enable_quicksight"
  }

  assert {
    condition     = output.api_function_name != null
    error_message = "the API Lambda (and so its routes) is created from make package's api.zip by default"
  }

  assert {
    condition     = output.stream_names["transactions"] == "fraud-stream-dev-transactions"
    error_message = "stream names carry the project and environment"
  }

  assert {
    condition     = output.glue_table == "fraud_stream_dev.alerts"
    error_message = "the Glue database carries the project and environment"
  }
}

run "quicksight_on_demand_streams_and_started_application_plan" {
  command = plan

  variables {
    enable_quicksight                = true
    quicksight_principal_arn         = "arn:aws:quicksight:eu-west-1:111111111111:user/default/analyst"
    quicksight_dashboard_reader_arns = ["arn:aws:quicksight:eu-west-1:111111111111:group/default/readers"]
    stream_mode                      = "ON_DEMAND"
    start_application                = true
  }

  assert {
    condition     = output.quicksight_dashboard_id != null
    error_message = "the dashboard is planned"
  }

  assert {
    condition     = output.flink_job_properties["source.initial_position"] == "LATEST"
    error_message = "the job's properties reach the application"
  }

  assert {
    condition     = output.flink_job_properties["source.efo_consumer"] == ""
    error_message = "enhanced fan-out is off by default: the source polls"
  }

}

# Everything unique in an account and region (buckets, streams, tables, the Glue database,
# the SES template, the application, the Cognito domain) differs between two environments.
run "second_environment_in_the_same_account_shares_no_name" {
  command = plan

  variables {
    environment = "prod"
  }

  assert {
    condition = length(setintersection(
      toset([for name in output.unique_names : name]),
      toset([for name in run.example_variables_plan.unique_names : name]),
    )) == 0
    error_message = "a name of the dev environment is used by prod as well"
  }

  assert {
    condition     = alltrue([for name in output.unique_names : name != null])
    error_message = "every name is known when planned (the comparison above needs them)"
  }

  assert {
    condition     = length(output.unique_names) == length(run.example_variables_plan.unique_names)
    error_message = "the same names are listed for both environments"
  }
}

run "enhanced_fan_out_names_the_consumer_and_lets_the_job_subscribe" {
  command = plan

  variables {
    enhanced_fan_out = true
  }

  assert {
    condition     = output.flink_job_properties["source.efo_consumer"] == "fraud-stream-dev-detector-scorer"
    error_message = "the job registers its fan-out consumer under the application's name"
  }
}

