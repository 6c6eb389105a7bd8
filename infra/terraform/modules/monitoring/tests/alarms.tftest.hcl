# Plans the module against the AWS provider's real schema, no account (mock provider):
# the alarm map's shapes fit the one for_each resource block.

mock_provider "aws" {}

variables {
  name                              = "fraud-test"
  flink_application_name            = "fraud-test-app"
  transactions_stream_name          = "transactions"
  alerts_stream_name                = "alerts"
  deadletter_stream_name            = "transactions-dlq"
  decisions_stream_name             = "decisions"
  decision_log_delivery_stream_name = "fraud-test-decisions"
  fanout_queue_name                 = "fanout-failures"
  lambda_function_names             = { fanout = "fanout-fn", flush = "flush-fn", api = null }
  kms_key_arn                       = "arn:aws:kms:us-east-1:111111111111:key/test"
}

run "every_alarm_plans_from_the_one_map" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 20
    error_message = "9 job (2 of them shadow models), 7 stream, delivery and queue, 2 x 2 Lambda alarms expected (api is null)"
  }

  assert {
    condition = toset([
      for q in aws_cloudwatch_metric_alarm.this["late-ratio"].metric_query : q.id
    ]) == toset(["late", "scored", "alarm"])
    error_message = "the late ratio reads transactions_late and transactions_scored"
  }

  assert {
    condition = alltrue([
      for q in aws_cloudwatch_metric_alarm.this["late-ratio"].metric_query :
      q.return_data == (q.id == "alarm")
    ])
    error_message = "only the expression of a metric-math alarm returns data"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["fanout-dlq-depth"].alarm_name == "fraud-test-fanout-dlq-depth"
    error_message = "alarm names keep the names of the former one-block alarms"
  }
}

run "a_stopped_job_does_not_notify" {
  command = plan

  variables {
    job_expected_running = false
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["job-not-running"].actions_enabled == false
    error_message = "job-not-running must be silent while the job is stopped on purpose"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["models-refused"].actions_enabled
    error_message = "the other alarms stay enabled"
  }
}
