# Plans the whole root module against the hashicorp/aws provider's schema, with no account
# (mock provider): the example variables (terraform.tfvars.example) as shipped, then with
# QuickSight, provisioned streams, the API and start_application on. tests/
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
  stream_mode             = "ON_DEMAND"
  stream_name_prefix      = ""
  start_application       = false
  model_prefix            = "models/"
  source_initial_position = "LATEST"
  flink_parallelism       = 1
  flink_auto_scaling      = true
  email_from              = "fraud-alerts@example.com"
  email_to                = ["fraud-analysts@example.com"]
  email_min_severity      = "high"
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
}

run "quicksight_provisioned_streams_api_and_started_application_plan" {
  command = plan

  variables {
    enable_quicksight                = true
    quicksight_principal_arn         = "arn:aws:quicksight:eu-west-1:111111111111:user/default/analyst"
    quicksight_dashboard_reader_arns = ["arn:aws:quicksight:eu-west-1:111111111111:group/default/readers"]
    stream_mode                      = "PROVISIONED"
    start_application                = true
    api_zip                          = var.fanout_zip # any file: the plan hashes it
  }

  assert {
    condition     = output.quicksight_dashboard_id != null
    error_message = "the dashboard is planned"
  }

  assert {
    condition     = output.flink_job_properties["source.initial_position"] == "LATEST"
    error_message = "the job's properties reach the application"
  }

}
