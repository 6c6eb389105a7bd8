# Plans the module against the AWS provider's real schema, no account (mock provider): one
# delivery stream per record kind, writing where its Glue table projects, through the
# masking Lambda; the inputs are validated. mask_lambda_zip is passed with -var by
# tests/test_terraform_archive.py (a zip built by infra/package.py).

mock_provider "aws" {
  # Roles and bucket policies validate their JSON even in a plan.
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  name              = "fraud-test"
  bucket_name       = "fraud-archive-test"
  database_name     = "fraud"
  kms_key_arn       = "arn:aws:kms:us-east-1:111111111111:key/test"
  access_log_bucket = "fraud-access-logs-test"
  stream_arns = {
    transactions = "arn:aws:kinesis:us-east-1:111111111111:stream/transactions"
    labels       = "arn:aws:kinesis:us-east-1:111111111111:stream/labels"
  }
  decisions_stream_arn = "arn:aws:kinesis:us-east-1:111111111111:stream/decisions"
}

# The project's bucket module is planned by the root's tests; here its name is fixed so
# the paths below are known at plan time.
override_module {
  target = module.bucket
  outputs = {
    name = "fraud-archive-test"
    arn  = "arn:aws:s3:::fraud-archive-test"
  }
}

run "each_stream_is_archived_as_parquet_by_day_of_event_time" {
  command = plan

  assert {
    condition     = toset(keys(aws_kinesis_firehose_delivery_stream.archive)) == toset(["transactions", "labels"])
    error_message = "one delivery stream per record kind"
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.archive["transactions"].extended_s3_configuration[0].prefix == "transactions/dt=!{partitionKeyFromQuery:dt}/"
    error_message = "transactions land in transactions/dt=YYYY-MM-DD/"
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.archive["labels"].kinesis_source_configuration[0].kinesis_stream_arn == var.stream_arns["labels"]
    error_message = "the labels stream feeds the labels archive"
  }

  assert {
    condition     = aws_glue_catalog_table.archive["transactions"].parameters["storage.location.template"] == "s3://fraud-archive-test/transactions/dt=$${dt}/"
    error_message = "the table projects the partitions Firehose writes"
  }

  assert {
    condition     = length(aws_glue_catalog_table.archive["labels"].storage_descriptor[0].columns) == 9
    error_message = "Label v1 has nine fields"
  }
}

run "the_decision_log_is_parquet_by_day_and_hour_of_event_time" {
  command = plan

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.decisions.kinesis_source_configuration[0].kinesis_stream_arn == var.decisions_stream_arn
    error_message = "the decisions stream feeds the decision log"
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.decisions.extended_s3_configuration[0].prefix == "decisions/dt=!{partitionKeyFromQuery:dt}/hour=!{partitionKeyFromQuery:hour}/"
    error_message = "decisions land in decisions/dt=YYYY-MM-DD/hour=HH/"
  }

  assert {
    condition     = aws_glue_catalog_table.decisions.parameters["storage.location.template"] == "s3://fraud-archive-test/decisions/dt=$${dt}/hour=$${hour}/"
    error_message = "the table projects the partitions Firehose writes"
  }

  assert {
    condition     = length(aws_glue_catalog_table.decisions.storage_descriptor[0].columns) == 27
    error_message = "Decision v1 has 27 fields"
  }
}

run "a_decision_log_buffer_outside_firehoses_range_is_refused" {
  command = plan

  variables {
    decisions_buffering_interval_s = 30
  }

  expect_failures = [var.decisions_buffering_interval_s]
}

run "streams_other_than_transactions_and_labels_are_refused" {
  command = plan

  variables {
    stream_arns = { alerts = "arn:aws:kinesis:us-east-1:111111111111:stream/alerts" }
  }

  expect_failures = [var.stream_arns]
}

run "a_buffer_below_the_conversion_minimum_is_refused" {
  command = plan

  variables {
    buffering_size_mb = 5
  }

  expect_failures = [var.buffering_size_mb]
}
