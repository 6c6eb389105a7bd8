# Alarms (job not running, source iterator age, dead letters, Lambda errors and
# throttles) to an encrypted SNS topic, and one dashboard for the whole flow.

data "aws_region" "current" {}

locals {
  lambda_functions = { for k, v in var.lambda_function_names : k => v if v != null }
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_metric_alarm" "job_not_running" {
  alarm_name          = "${var.name}-job-not-running"
  alarm_description   = "The Managed Flink application ${var.flink_application_name} has not been up for 3 minutes (stopped, failing or restarting)."
  namespace           = "AWS/KinesisAnalytics"
  metric_name         = "uptime"
  dimensions          = { Application = var.flink_application_name }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "LessThanOrEqualToThreshold"
  threshold           = 0
  treat_missing_data  = "breaching"
  actions_enabled     = var.job_expected_running
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "job_restarts" {
  alarm_name          = "${var.name}-job-restarting"
  alarm_description   = "The Flink job restarted (fullRestarts grew) in the last 5 minutes."
  namespace           = "AWS/KinesisAnalytics"
  metric_name         = "fullRestarts"
  dimensions          = { Application = var.flink_application_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  datapoints_to_alarm = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "source_iterator_age" {
  alarm_name          = "${var.name}-source-iterator-age"
  alarm_description   = "The job reads ${var.transactions_stream_name} more than ${var.iterator_age_threshold_ms} ms behind: alerts are late."
  namespace           = "AWS/Kinesis"
  metric_name         = "GetRecords.IteratorAgeMilliseconds"
  dimensions          = { StreamName = var.transactions_stream_name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.iterator_age_threshold_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "deadletter_records" {
  alarm_name          = "${var.name}-deadletter-records"
  alarm_description   = "More than ${var.deadletter_threshold} transactions were rejected to ${var.deadletter_stream_name} in 5 minutes: a producer sends malformed events."
  namespace           = "AWS/Kinesis"
  metric_name         = "IncomingRecords"
  dimensions          = { StreamName = var.deadletter_stream_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.deadletter_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "fanout_dlq_depth" {
  alarm_name          = "${var.name}-fanout-dlq-depth"
  alarm_description   = "Alerts the fan-out could not deliver are waiting in ${var.fanout_queue_name}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = var.fanout_queue_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "fanout_iterator_age" {
  alarm_name          = "${var.name}-fanout-iterator-age"
  alarm_description   = "The fan-out Lambda is more than ${var.iterator_age_threshold_ms} ms behind the alerts stream."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = var.lambda_function_names["fanout"] }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.iterator_age_threshold_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  for_each = local.lambda_functions

  alarm_name          = "${var.name}-${each.key}-errors"
  alarm_description   = "Lambda ${each.value} reported errors."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda_throttles" {
  for_each = local.lambda_functions

  alarm_name          = "${var.name}-${each.key}-throttles"
  alarm_description   = "Lambda ${each.value} was throttled (reserved concurrency reached)."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title  = "Transactions in, alerts and dead letters out (records/min)"
          region = data.aws_region.current.name
          stat   = "Sum"
          period = 60
          metrics = [
            ["AWS/Kinesis", "IncomingRecords", "StreamName", var.transactions_stream_name],
            ["AWS/Kinesis", "IncomingRecords", "StreamName", var.alerts_stream_name],
            ["AWS/Kinesis", "IncomingRecords", "StreamName", var.deadletter_stream_name],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title  = "Lag: source iterator age and fan-out iterator age (ms)"
          region = data.aws_region.current.name
          stat   = "Maximum"
          period = 60
          metrics = [
            ["AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", "StreamName", var.transactions_stream_name],
            ["AWS/Lambda", "IteratorAge", "FunctionName", var.lambda_function_names["fanout"]],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 12, height = 6
        properties = {
          title  = "Flink job: uptime, restarts, checkpoint duration, KPUs"
          region = data.aws_region.current.name
          stat   = "Maximum"
          period = 60
          metrics = [
            ["AWS/KinesisAnalytics", "uptime", "Application", var.flink_application_name],
            ["AWS/KinesisAnalytics", "fullRestarts", "Application", var.flink_application_name],
            ["AWS/KinesisAnalytics", "lastCheckpointDuration", "Application", var.flink_application_name],
            ["AWS/KinesisAnalytics", "KPUs", "Application", var.flink_application_name],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 6, width = 12, height = 6
        properties = {
          title  = "Lambda errors and throttles"
          region = data.aws_region.current.name
          stat   = "Sum"
          period = 300
          metrics = concat(
            [for k, f in local.lambda_functions : ["AWS/Lambda", "Errors", "FunctionName", f]],
            [for k, f in local.lambda_functions : ["AWS/Lambda", "Throttles", "FunctionName", f]],
          )
        }
      },
      {
        type = "metric", x = 0, y = 12, width = 12, height = 6
        properties = {
          title  = "Fan-out (Powertools metrics, namespace FraudStream)"
          region = data.aws_region.current.name
          stat   = "Sum"
          period = 300
          metrics = [
            ["FraudStream", "AlertsStored", "service", "alert-fanout"],
            ["FraudStream", "EmailsSent", "service", "alert-fanout"],
            ["FraudStream", "RecordsFailed", "service", "alert-fanout"],
            ["FraudStream", "AlertsMalformed", "service", "alert-fanout"],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 12, width = 12, height = 6
        properties = {
          title  = "Detection to fan-out latency (ms, p50/p99)"
          region = data.aws_region.current.name
          period = 300
          metrics = [
            ["FraudStream", "AlertAgeAtFanoutMs", "service", "alert-fanout", { stat = "p50" }],
            ["FraudStream", "AlertAgeAtFanoutMs", "service", "alert-fanout", { stat = "p99" }],
          ]
        }
      },
    ]
  })
}
