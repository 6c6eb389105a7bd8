output "stream_names" {
  description = "Kinesis stream name by role."
  value       = module.streams.names
}

output "artifacts_bucket" {
  description = "Bucket of the application zip, the model registry and training data."
  value       = module.buckets["artifacts"].name
}

output "model_registry" {
  description = "s3:// root of the model registry the job serves from (model.path)."
  value       = module.flink_app.job_properties["model.path"]
}

output "model_publish_command" {
  description = "Publishes the locally trained model to the registry and makes it current."
  value       = "python -m model_export.registry ${module.flink_app.job_properties["model.path"]} publish build/model --promote"
}

output "flink_application_name" {
  description = "Managed Flink application."
  value       = module.flink_app.application_name
}

output "flink_job_properties" {
  description = "The FraudDetection property group as deployed."
  value       = module.flink_app.job_properties
}

output "flink_log_group" {
  description = "CloudWatch log group of the job."
  value       = module.flink_app.log_group_name
}

output "sagemaker_role_arn" {
  description = "Execution role for SageMaker training jobs."
  value       = module.sagemaker.role_arn
}

output "sagemaker_training_input" {
  description = "s3:// prefix of SageMaker training input."
  value       = module.sagemaker.training_input_uri
}

output "sagemaker_training_output" {
  description = "s3:// prefix of SageMaker training output."
  value       = module.sagemaker.training_output_uri
}

output "alerts_lake_bucket" {
  description = "Bucket of the alerts lake."
  value       = module.buckets["alerts-lake"].name
}

output "alerts_lake_prefix" {
  description = "Key prefix of the alerts in the lake bucket (the fan-out's ALERTS_PREFIX)."
  value       = var.lake_prefix
}

output "alerts_table" {
  description = "DynamoDB alert table."
  value       = module.alert_fanout.alerts_table_name
}

output "fanout_dead_letter_queue_url" {
  description = "On-failure queue of the fan-out."
  value       = module.alert_fanout.on_failure_queue_url
}

output "athena_workgroup" {
  description = "Athena workgroup for the alerts lake."
  value       = module.analytics.workgroup_name
}

output "glue_table" {
  description = "Glue database.table of the alerts lake."
  value       = "${module.analytics.database_name}.${module.analytics.table_name}"
}

output "archive_transactions_uri" {
  description = "s3:// prefix of archived transactions, Parquet in dt=YYYY-MM-DD/ partitions (training history)."
  value       = module.archive.transactions_uri
}

output "archive_labels_uri" {
  description = "s3:// prefix of archived labels, partitioned by their transaction's day."
  value       = module.archive.labels_uri
}

output "athena_results_bucket" {
  description = "Bucket of Athena query results (QuickSight needs write access to it)."
  value       = module.buckets["athena-results"].name
}

output "kms_key_arn" {
  description = "The project's KMS key (QuickSight's service role needs kms:Decrypt and kms:GenerateDataKey on it)."
  value       = module.kms.key_arn
}

output "quicksight_dashboard_id" {
  description = "ID of the QuickSight dashboard \"Fraud alerts\" (null unless enable_quicksight)."
  value       = module.analytics.quicksight_dashboard_id
}

output "api_function_name" {
  description = "API Lambda (null when api_zip is null: the API then has no routes)."
  value       = module.api.api_function_name
}

output "api_endpoint" {
  description = "HTTP API base URL."
  value       = module.api.api_endpoint
}

output "user_pool_id" {
  description = "Cognito user pool of the analysts."
  value       = module.api.user_pool_id
}

output "user_pool_client_id" {
  description = "Cognito app client of the console."
  value       = module.api.user_pool_client_id
}

output "amplify_app_id" {
  description = "Amplify app of the console."
  value       = module.api.amplify_app_id
}

output "cognito_domain" {
  description = "Host of the Cognito hosted UI (make package --terraform-outputs reads it for the console's config.json)."
  value       = module.api.cognito_domain
}

output "console_url" {
  description = "URL of the analyst console."
  value       = module.api.console_url
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.monitoring.alarm_topic_arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard."
  value       = module.monitoring.dashboard_name
}

output "unique_names" {
  description = "Every name that must be unique in the account and region (S3: globally), by what it names: each carries the environment, so environments share an account."
  value = merge(
    { for role, name in module.streams.names : "stream_${role}" => name },
    { for key, bucket in module.buckets : "bucket_${key}" => bucket.name },
    {
      bucket_access_logs    = module.access_logs_bucket.name
      bucket_archive        = module.archive.bucket_name
      glue_database         = module.analytics.database_name
      athena_workgroup      = module.analytics.workgroup_name
      ses_template          = module.alert_fanout.ses_template_name
      ses_configuration_set = module.alert_fanout.ses_configuration_set
      alerts_table          = module.alert_fanout.alerts_table_name
      flink_application     = module.flink_app.application_name
      kms_alias             = module.kms.alias_name
      cognito_domain        = module.api.cognito_domain
      dashboard             = module.monitoring.dashboard_name
    },
    { for kind, name in module.archive.delivery_stream_names : "firehose_${kind}" => name },
  )
}
