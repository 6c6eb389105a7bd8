# Alarms (alarms.tf) to an encrypted SNS topic, and one dashboard for the whole flow.

data "aws_region" "current" {}

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

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title  = "Transactions in, alerts and dead letters out (records/min)"
          region = data.aws_region.current.region
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
          region = data.aws_region.current.region
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
          region = data.aws_region.current.region
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
          region = data.aws_region.current.region
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
          region = data.aws_region.current.region
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
          region = data.aws_region.current.region
          period = 300
          metrics = [
            ["FraudStream", "AlertAgeAtFanoutMs", "service", "alert-fanout", { stat = "p50" }],
            ["FraudStream", "AlertAgeAtFanoutMs", "service", "alert-fanout", { stat = "p99" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 18, width = 24, height = 6
        properties = {
          title  = "Job counters since its last start: scored, late, dropped, models refused, registry read failures"
          region = data.aws_region.current.region
          stat   = "Maximum"
          period = 60
          metrics = [
            for name in ["transactions_scored", "transactions_late", "numLateRecordsDropped", "models_refused", "model_fetch_failures"] :
            ["AWS/KinesisAnalytics", name, "Application", var.flink_application_name]
          ]
        }
      },
    ]
  })
}
