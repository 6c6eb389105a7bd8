# Every alarm of the system, as data: one map, one resource block.
#
# Each alarm reads one or more `metrics` (query id => namespace, name, dimensions, stat) and
# alarms on the single metric, or on `expression` (CloudWatch metric math over the ids).
#
# The job's own metrics (udfs/metrics.py, io.fraudstream.metrics.CloudWatchMetrics) are
# registered in the `kinesisanalytics` metric group, the one Managed Flink forwards to
# CloudWatch: namespace AWS/KinesisAnalytics, dimension Application (metrics level
# APPLICATION, the flink_app module's default). Flink counters are published as their
# running total since the job (re)started, so the alarms watch DIFF() between periods,
# and FILL() a counter that has not counted yet.

locals {
  lambda_functions = { for k, v in var.lambda_function_names : k => v if v != null }
  flink            = { Application = var.flink_application_name }
  everyone         = [aws_sns_topic.alarms.arn]

  flink_alarms = {
    "job-not-running" = {
      description        = "The Managed Flink application ${var.flink_application_name} has not been up for 3 minutes (stopped, failing or restarting)."
      metrics            = { uptime = { namespace = "AWS/KinesisAnalytics", name = "uptime", dimensions = local.flink, stat = "Minimum" } }
      expression         = null
      period             = 60
      evaluation_periods = 3
      datapoints         = 3
      comparison         = "LessThanOrEqualToThreshold"
      threshold          = 0
      missing            = "breaching"
      notify_ok          = true
      enabled            = var.job_expected_running
    }
    "job-restarting" = {
      description        = "The Flink job restarted (fullRestarts grew) in the last 5 minutes."
      metrics            = { restarts = { namespace = "AWS/KinesisAnalytics", name = "fullRestarts", dimensions = local.flink, stat = "Maximum" } }
      expression         = null
      period             = 300
      evaluation_periods = 2
      datapoints         = 1
      comparison         = "GreaterThanThreshold"
      threshold          = 0
      missing            = "notBreaching"
      notify_ok          = false
      enabled            = true
    }
    "late-ratio" = {
      description = "More than ${var.late_ratio_threshold * 100}% of the transactions scored in 5 minutes were late (behind the watermark): scored without their card and terminal history."
      metrics = {
        late   = { namespace = "AWS/KinesisAnalytics", name = "transactions_late", dimensions = local.flink, stat = "Maximum" }
        scored = { namespace = "AWS/KinesisAnalytics", name = "transactions_scored", dimensions = local.flink, stat = "Maximum" }
      }
      expression         = "IF(DIFF(scored) > 0, FILL(DIFF(late), 0) / DIFF(scored), 0)"
      period             = 300
      evaluation_periods = 1
      datapoints         = 1
      comparison         = "GreaterThanThreshold"
      threshold          = var.late_ratio_threshold
      missing            = "notBreaching"
      notify_ok          = true
      enabled            = true
    }
    "records-dropped" = {
      description        = "The Flink job dropped records (numLateRecordsDropped grew): transactions or labels were neither scored nor counted."
      metrics            = { dropped = { namespace = "AWS/KinesisAnalytics", name = "numLateRecordsDropped", dimensions = local.flink, stat = "Maximum" } }
      expression         = "FILL(DIFF(dropped), 0)"
      period             = 300
      evaluation_periods = 1
      datapoints         = 1
      comparison         = "GreaterThanThreshold"
      threshold          = 0
      missing            = "notBreaching"
      notify_ok          = true
      enabled            = true
    }
    "models-refused" = {
      description        = "A worker refused the registry's current model (sha256 or feature schema mismatch) and keeps scoring with the previous one: fix or roll back the promoted version."
      metrics            = { refused = { namespace = "AWS/KinesisAnalytics", name = "models_refused", dimensions = local.flink, stat = "Maximum" } }
      expression         = "FILL(DIFF(refused), 0)"
      period             = 300
      evaluation_periods = 1
      datapoints         = 1
      comparison         = "GreaterThanThreshold"
      threshold          = 0
      missing            = "notBreaching"
      notify_ok          = false
      enabled            = true
    }
    "rulesets-refused" = {
      description        = "A worker refused the rule registry's current rule set or one of its lists (sha256, a field, a rule that does not type-check, a hostile list) and keeps applying the previous rules: fix or roll back the promoted version."
      metrics            = { refused = { namespace = "AWS/KinesisAnalytics", name = "rulesets_refused", dimensions = local.flink, stat = "Maximum" } }
      expression         = "FILL(DIFF(refused), 0)"
      period             = 300
      evaluation_periods = 1
      datapoints         = 1
      comparison         = "GreaterThanThreshold"
      threshold          = 0
      missing            = "notBreaching"
      notify_ok          = false
      enabled            = true
    }
    "shadow-scoring-failing" = {
      description        = "A shadow model raised in onnxruntime or gave NaN scores on live traffic: its rows have no shadow score, so its comparison with the current model (model_export.compare) is incomplete. Demote it (registry shadow-remove) or publish a fixed version."
      metrics            = { failed = { namespace = "AWS/KinesisAnalytics", name = "shadow_scoring_failures", dimensions = local.flink, stat = "Maximum" } }
      expression         = "FILL(DIFF(failed), 0)"
      period             = 300
      evaluation_periods = 1
      datapoints         = 1
      comparison         = "GreaterThanThreshold"
      threshold          = 0
      missing            = "notBreaching"
      notify_ok          = false
      enabled            = true
    }
    "shadow-scoring-late" = {
      description        = "A shadow model did not finish within model.shadow_budget_ms after the serving decision and its rows were skipped (it is paused while late): it is too slow for live traffic at this parallelism. Demote it or give it a larger budget."
      metrics            = { skipped = { namespace = "AWS/KinesisAnalytics", name = "shadow_scoring_skips", dimensions = local.flink, stat = "Maximum" } }
      expression         = "FILL(DIFF(skipped), 0)"
      period             = 300
      evaluation_periods = 1
      datapoints         = 1
      comparison         = "GreaterThanThreshold"
      threshold          = 0
      missing            = "notBreaching"
      notify_ok          = false
      enabled            = true
    }
    "model-fetch-failing" = {
      description        = "The scorers could not read the model registry for 15 minutes (network, S3 errors, throttling): they keep the model they have; a promoted version is not served."
      metrics            = { failures = { namespace = "AWS/KinesisAnalytics", name = "model_fetch_failures", dimensions = local.flink, stat = "Maximum" } }
      expression         = "FILL(DIFF(failures), 0)"
      period             = 300
      evaluation_periods = 3
      datapoints         = 3
      comparison         = "GreaterThanThreshold"
      threshold          = 0
      missing            = "notBreaching"
      notify_ok          = true
      enabled            = true
    }
  }

  stream_alarms = {
    "decisions-write-throttled" = {
      description        = "The job's writes to ${var.decisions_stream_name} (the decision log) were throttled in the last 5 minutes: the sink retries, and once its buffer is full scoring is back-pressured."
      metrics            = { throttled = { namespace = "AWS/Kinesis", name = "WriteProvisionedThroughputExceeded", dimensions = { StreamName = var.decisions_stream_name }, stat = "Sum" } }
      expression         = null
      period             = 300
      evaluation_periods = 1
      datapoints         = 1
      comparison         = "GreaterThanThreshold"
      threshold          = 0
      missing            = "notBreaching"
      notify_ok          = true
      enabled            = true
    }
    "decision-log-delivery" = {
      description        = "Firehose ${var.decision_log_delivery_stream_name} failed to deliver some of the decision log to S3 in 5 minutes (it retries; what still fails lands under errors/decisions/)."
      metrics            = { delivered = { namespace = "AWS/Firehose", name = "DeliveryToS3.Success", dimensions = { DeliveryStreamName = var.decision_log_delivery_stream_name }, stat = "Minimum" } }
      expression         = null
      period             = 300
      evaluation_periods = 1
      datapoints         = 1
      comparison         = "LessThanThreshold"
      threshold          = 1
      missing            = "notBreaching"
      notify_ok          = true
      enabled            = true
    }
    "source-iterator-age" = {
      description        = "The job reads ${var.transactions_stream_name} more than ${var.iterator_age_threshold_ms} ms behind: alerts are late."
      metrics            = { age = { namespace = "AWS/Kinesis", name = "GetRecords.IteratorAgeMilliseconds", dimensions = { StreamName = var.transactions_stream_name }, stat = "Maximum" } }
      expression         = null
      period             = 60
      evaluation_periods = 5
      datapoints         = 3
      comparison         = "GreaterThanThreshold"
      threshold          = var.iterator_age_threshold_ms
      missing            = "notBreaching"
      notify_ok          = true
      enabled            = true
    }
    "deadletter-records" = {
      description        = "More than ${var.deadletter_threshold} transactions were rejected to ${var.deadletter_stream_name} in 5 minutes: a producer sends malformed events."
      metrics            = { deadletters = { namespace = "AWS/Kinesis", name = "IncomingRecords", dimensions = { StreamName = var.deadletter_stream_name }, stat = "Sum" } }
      expression         = null
      period             = 300
      evaluation_periods = 1
      datapoints         = 1
      comparison         = "GreaterThanThreshold"
      threshold          = var.deadletter_threshold
      missing            = "notBreaching"
      notify_ok          = false
      enabled            = true
    }
    "deadletter-rate" = {
      description = "More than ${var.deadletter_ratio_threshold * 100}% of the records put to ${var.transactions_stream_name} in 5 minutes were dead-lettered to ${var.deadletter_stream_name}."
      metrics = {
        deadletters  = { namespace = "AWS/Kinesis", name = "IncomingRecords", dimensions = { StreamName = var.deadletter_stream_name }, stat = "Sum" }
        transactions = { namespace = "AWS/Kinesis", name = "IncomingRecords", dimensions = { StreamName = var.transactions_stream_name }, stat = "Sum" }
      }
      expression         = "IF(transactions > 0, FILL(deadletters, 0) / transactions, 0)"
      period             = 300
      evaluation_periods = 1
      datapoints         = 1
      comparison         = "GreaterThanThreshold"
      threshold          = var.deadletter_ratio_threshold
      missing            = "notBreaching"
      notify_ok          = true
      enabled            = true
    }
    "fanout-dlq-depth" = {
      description        = "Alerts the fan-out could not deliver are waiting in ${var.fanout_queue_name}."
      metrics            = { depth = { namespace = "AWS/SQS", name = "ApproximateNumberOfMessagesVisible", dimensions = { QueueName = var.fanout_queue_name }, stat = "Maximum" } }
      expression         = null
      period             = 300
      evaluation_periods = 1
      datapoints         = 1
      comparison         = "GreaterThanThreshold"
      threshold          = 0
      missing            = "notBreaching"
      notify_ok          = true
      enabled            = true
    }
    "fanout-iterator-age" = {
      description        = "The fan-out Lambda is more than ${var.iterator_age_threshold_ms} ms behind the alerts stream."
      metrics            = { age = { namespace = "AWS/Lambda", name = "IteratorAge", dimensions = { FunctionName = var.lambda_function_names["fanout"] }, stat = "Maximum" } }
      expression         = null
      period             = 60
      evaluation_periods = 5
      datapoints         = 3
      comparison         = "GreaterThanThreshold"
      threshold          = var.iterator_age_threshold_ms
      missing            = "notBreaching"
      notify_ok          = false
      enabled            = true
    }
  }

  lambda_alarms = merge([
    for role, function_name in local.lambda_functions : {
      for metric, what in { errors = "reported errors", throttles = "was throttled (reserved concurrency reached)" } :
      "${role}-${metric}" => {
        description        = "Lambda ${function_name} ${what}."
        metrics            = { (metric) = { namespace = "AWS/Lambda", name = title(metric), dimensions = { FunctionName = function_name }, stat = "Sum" } }
        expression         = null
        period             = 300
        evaluation_periods = 1
        datapoints         = 1
        comparison         = "GreaterThanThreshold"
        threshold          = 0
        missing            = "notBreaching"
        notify_ok          = false
        enabled            = true
      }
    }
  ]...)

  alarms = merge(local.flink_alarms, local.stream_alarms, local.lambda_alarms)
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  evaluation_periods  = each.value.evaluation_periods
  datapoints_to_alarm = each.value.datapoints
  treat_missing_data  = each.value.missing
  actions_enabled     = each.value.enabled
  alarm_actions       = local.everyone
  ok_actions          = each.value.notify_ok ? local.everyone : []
  tags                = var.tags

  dynamic "metric_query" {
    for_each = each.value.metrics
    content {
      id          = metric_query.key
      return_data = each.value.expression == null
      metric {
        namespace   = metric_query.value.namespace
        metric_name = metric_query.value.name
        dimensions  = metric_query.value.dimensions
        stat        = metric_query.value.stat
        period      = each.value.period
      }
    }
  }

  dynamic "metric_query" {
    for_each = each.value.expression == null ? [] : [each.value.expression]
    content {
      id          = "alarm"
      expression  = metric_query.value
      label       = each.key
      return_data = true
    }
  }
}

# The alarms had one resource block each before: keep them (no destroy and re-create).
moved {
  from = aws_cloudwatch_metric_alarm.job_not_running
  to   = aws_cloudwatch_metric_alarm.this["job-not-running"]
}

moved {
  from = aws_cloudwatch_metric_alarm.job_restarts
  to   = aws_cloudwatch_metric_alarm.this["job-restarting"]
}

moved {
  from = aws_cloudwatch_metric_alarm.source_iterator_age
  to   = aws_cloudwatch_metric_alarm.this["source-iterator-age"]
}

moved {
  from = aws_cloudwatch_metric_alarm.deadletter_records
  to   = aws_cloudwatch_metric_alarm.this["deadletter-records"]
}

moved {
  from = aws_cloudwatch_metric_alarm.fanout_dlq_depth
  to   = aws_cloudwatch_metric_alarm.this["fanout-dlq-depth"]
}

moved {
  from = aws_cloudwatch_metric_alarm.fanout_iterator_age
  to   = aws_cloudwatch_metric_alarm.this["fanout-iterator-age"]
}

moved {
  from = aws_cloudwatch_metric_alarm.lambda_errors["fanout"]
  to   = aws_cloudwatch_metric_alarm.this["fanout-errors"]
}

moved {
  from = aws_cloudwatch_metric_alarm.lambda_errors["flush"]
  to   = aws_cloudwatch_metric_alarm.this["flush-errors"]
}

moved {
  from = aws_cloudwatch_metric_alarm.lambda_errors["api"]
  to   = aws_cloudwatch_metric_alarm.this["api-errors"]
}

moved {
  from = aws_cloudwatch_metric_alarm.lambda_throttles["fanout"]
  to   = aws_cloudwatch_metric_alarm.this["fanout-throttles"]
}

moved {
  from = aws_cloudwatch_metric_alarm.lambda_throttles["flush"]
  to   = aws_cloudwatch_metric_alarm.this["flush-throttles"]
}

moved {
  from = aws_cloudwatch_metric_alarm.lambda_throttles["api"]
  to   = aws_cloudwatch_metric_alarm.this["api-throttles"]
}
