# Alarms on analysts' fraud labels (lambdas/api/watch.py emits them, by `sub` and by
# terminal): Metrics Insights queries take the largest count over all analysts, and over all
# terminals, so one alarm covers every analyst and one every terminal, whoever they are.
# They fire while the labels are still held, so a second analyst can reverse them.

locals {
  label_alarms = {
    "analyst-fraud-labels" = {
      description = "One analyst asked for more fraud labels in an hour than var.analyst_fraud_label_alarm_threshold: a stolen token or a mistake; review and reverse them within the hold."
      query       = "SELECT SUM(AnalystFraudLabels) FROM SCHEMA(\"FraudStream/Api\", actor) GROUP BY actor ORDER BY SUM() DESC LIMIT 1"
    }
    "terminal-analyst-fraud-labels" = {
      description = "Analysts asked for more fraud labels on one terminal in an hour than var.analyst_fraud_label_alarm_threshold: someone may be poisoning that terminal's risk."
      query       = "SELECT SUM(TerminalAnalystFraudLabels) FROM SCHEMA(\"FraudStream/Api\", terminal_id) GROUP BY terminal_id ORDER BY SUM() DESC LIMIT 1"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "labels" {
  for_each = local.label_alarms

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  threshold           = var.analyst_fraud_label_alarm_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  metric_query {
    id          = "labels"
    expression  = each.value.query
    period      = 3600
    return_data = true
  }

  tags = var.tags
}
