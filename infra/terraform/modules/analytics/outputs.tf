output "database_name" {
  description = "Glue database."
  value       = aws_glue_catalog_database.this.name
}

output "table_name" {
  description = "Glue table over the alerts lake."
  value       = aws_glue_catalog_table.alerts.name
}

output "table_location" {
  description = "s3:// location of the alerts lake table."
  value       = aws_glue_catalog_table.alerts.storage_descriptor[0].location
}

output "workgroup_name" {
  description = "Athena workgroup."
  value       = aws_athena_workgroup.this.name
}

output "quicksight_data_set_arn" {
  description = "ARN of the QuickSight data set (null when QuickSight is off)."
  value       = var.enable_quicksight ? aws_quicksight_data_set.alerts[0].arn : null
}
