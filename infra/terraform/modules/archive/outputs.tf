output "bucket_name" {
  description = "Bucket of the transaction and label archive."
  value       = module.bucket.name
}

output "transactions_uri" {
  description = "s3:// prefix of archived transactions (dt=YYYY-MM-DD/ partitions below it)."
  value       = "s3://${module.bucket.name}/${local.prefixes["transactions"]}"
}

output "labels_uri" {
  description = "s3:// prefix of archived labels, partitioned by their transaction's day."
  value       = "s3://${module.bucket.name}/${local.prefixes["labels"]}"
}

output "table_names" {
  description = "Glue tables of the archive by record kind."
  value       = { for kind, table in aws_glue_catalog_table.archive : kind => table.name }
}

output "delivery_stream_names" {
  description = "Firehose delivery streams by record kind."
  value       = { for kind, stream in aws_kinesis_firehose_delivery_stream.archive : kind => stream.name }
}

output "bucket_arn" {
  description = "ARN of the archive bucket (for the roles that train from it, e.g. SageMaker's)."
  value       = module.bucket.arn
}

output "decisions_uri" {
  description = "s3:// prefix of the decision log (dt=YYYY-MM-DD/hour=HH/ partitions below it)."
  value       = "s3://${module.bucket.name}/${local.decisions_prefix}"
}

output "decisions_delivery_stream_name" {
  description = "Firehose delivery stream of the decision log (its DeliveryToS3 metrics are the log's delivery figures)."
  value       = aws_kinesis_firehose_delivery_stream.decisions.name
}
