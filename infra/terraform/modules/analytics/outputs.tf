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

output "quicksight_dashboard_id" {
  description = "ID of the QuickSight alerts dashboard (null when QuickSight is off); QuickSight console: Dashboards."
  value       = var.enable_quicksight ? aws_quicksight_dashboard.alerts[0].dashboard_id : null
}

output "quicksight_analysis_id" {
  description = "ID of the QuickSight analysis the dashboard is published from (null when QuickSight is off)."
  value       = var.enable_quicksight ? aws_quicksight_analysis.alerts[0].analysis_id : null
}
