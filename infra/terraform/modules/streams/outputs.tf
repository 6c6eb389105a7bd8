output "names" {
  description = "Stream name by role (transactions, labels, alerts, deadletter)."
  value       = { for role, stream in aws_kinesis_stream.this : role => stream.name }
}

output "arns" {
  description = "Stream ARN by role."
  value       = { for role, stream in aws_kinesis_stream.this : role => stream.arn }
}
