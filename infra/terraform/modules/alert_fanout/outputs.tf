output "function_names" {
  description = "Function name by role (fanout, flush)."
  value       = { for k, f in aws_lambda_function.this : k => f.function_name }
}

output "environment" {
  description = "Environment variables of the functions."
  value       = local.environment
}

output "on_failure_queue_url" {
  description = "SQS queue for malformed alerts and exhausted retries."
  value       = aws_sqs_queue.on_failure.url
}

output "on_failure_queue_name" {
  description = "Name of the on-failure queue."
  value       = aws_sqs_queue.on_failure.name
}

output "alerts_table_name" {
  description = "DynamoDB alert table."
  value       = aws_dynamodb_table.alerts.name
}

output "alerts_table_arn" {
  description = "ARN of the DynamoDB alert table."
  value       = aws_dynamodb_table.alerts.arn
}

output "ses_template_name" {
  description = "Stored SES template of alert e-mails (SES_TEMPLATE)."
  value       = aws_ses_template.alert.name
}

output "ses_configuration_set" {
  description = "SES configuration set of alert e-mails."
  value       = aws_sesv2_configuration_set.this.configuration_set_name
}
