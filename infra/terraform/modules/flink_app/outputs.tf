output "application_name" {
  description = "Name of the Managed Flink application."
  value       = aws_kinesisanalyticsv2_application.this.name
}

output "application_arn" {
  description = "ARN of the Managed Flink application."
  value       = aws_kinesisanalyticsv2_application.this.arn
}

output "role_arn" {
  description = "ARN of the application's service execution role."
  value       = module.role.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the application."
  value       = aws_cloudwatch_log_group.this.name
}

output "job_properties" {
  description = "The FraudDetection property group as deployed."
  value       = local.job_properties
}

output "code_location" {
  description = "s3:// URI of the deployed application zip."
  value       = "s3://${var.artifacts_bucket_name}/${aws_s3_object.code.key}"
}
