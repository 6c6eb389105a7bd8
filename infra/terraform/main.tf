# The whole AWS deployment of fraud-stream. Data flow (DESIGN.md):
# transactions stream -> Managed Flink job -> alerts stream -> fan-out Lambda -> S3 lake
# (Glue/Athena/QuickSight), DynamoDB (API, console), SES; analysts -> Amplify console ->
# HTTP API (Cognito JWT) -> API Lambda -> labels stream.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  # Every name unique in an account and region starts with this, so that a second
  # environment (dev, staging, prod) in the same account and region collides with nothing.
  name = "${var.project}-${var.environment}"
  # Bucket names are global: account and region make them unique without hard-coding either.
  bucket_suffix = "${data.aws_caller_identity.current.account_id}-${data.aws_region.current.region}"

  # The job's stream names (flink_job/application_properties.json) behind a prefix that
  # defaults to "<project>-<environment>-"; the job reads them from its property group.
  stream_prefix = var.stream_name_prefix == null ? "${local.name}-" : var.stream_name_prefix
  stream_names = {
    transactions = "${local.stream_prefix}transactions"
    labels       = "${local.stream_prefix}labels"
    alerts       = "${local.stream_prefix}alerts"
    deadletter   = "${local.stream_prefix}transactions-dlq"
    decisions    = "${local.stream_prefix}decisions"
  }
  # Glue database names take no hyphens in Athena's SQL without quoting.
  glue_database_name = var.glue_database_name == null ? replace(local.name, "-", "_") : var.glue_database_name
}

module "kms" {
  source = "./modules/kms"
  name   = local.name
}

module "streams" {
  source          = "./modules/streams"
  stream_names    = local.stream_names
  stream_mode     = var.stream_mode
  shard_count     = var.shard_count
  retention_hours = var.stream_retention_hours
  kms_key_arn     = module.kms.key_arn
}

# While `bootstrap` is on, the job reads and writes a second set of streams,
# "<prefix>bootstrap-<stream>", that `python -m local.bootstrap load` fills from the archive
# (docs/deployment.md, "Bootstrapping the state from the archive"): its alerts reach nobody.
module "bootstrap_streams" {
  count  = var.bootstrap ? 1 : 0
  source = "./modules/streams"
  stream_names = {
    for role, name in local.stream_names :
    role => "${local.stream_prefix}bootstrap-${trimprefix(name, local.stream_prefix)}"
  }
  stream_mode     = var.stream_mode
  shard_count     = var.shard_count
  retention_hours = var.stream_retention_hours
  kms_key_arn     = module.kms.key_arn
}

locals {
  job_streams = var.bootstrap ? module.bootstrap_streams[0] : module.streams
}

# ---- S3 ---------------------------------------------------------------------------

# One bucket module (modules/s3_bucket). The access-log bucket is its own call: the others
# log into it.
module "access_logs_bucket" {
  source                             = "./modules/s3_bucket"
  name                               = "${local.name}-access-logs-${local.bucket_suffix}"
  access_log_target                  = true
  expiration_days                    = 365
  noncurrent_version_expiration_days = 7
  force_destroy                      = var.force_destroy
}

locals {
  # Data buckets, named <project>-<environment>-<key>-<account>-<region>: days before objects move to
  # STANDARD_IA and expire (null: never), days overwritten or deleted versions are kept.
  buckets = {
    artifacts = { # Flink and Lambda code, the model registry, SageMaker's data
      transition_to_ia_days              = null
      expiration_days                    = null
      noncurrent_version_expiration_days = 90
    }
    alerts-lake = { # the fan-out's alerts, read through Athena
      transition_to_ia_days              = 30
      expiration_days                    = var.lake_retention_days
      noncurrent_version_expiration_days = 7
    }
    athena-results = {
      transition_to_ia_days              = null
      expiration_days                    = 7
      noncurrent_version_expiration_days = 1
    }
  }
}

module "buckets" {
  source   = "./modules/s3_bucket"
  for_each = local.buckets

  name                               = "${local.name}-${each.key}-${local.bucket_suffix}"
  kms_key_arn                        = module.kms.key_arn
  access_log_bucket                  = module.access_logs_bucket.name
  transition_to_ia_days              = each.value.transition_to_ia_days
  expiration_days                    = each.value.expiration_days
  noncurrent_version_expiration_days = each.value.noncurrent_version_expiration_days
  force_destroy                      = var.force_destroy
}

# The buckets' module calls before they were one for_each (and the access-log bucket's
# module, modules/log_bucket, before it was folded into modules/s3_bucket: same address,
# same resource names, so its state needs no move).
moved {
  from = module.artifacts_bucket
  to   = module.buckets["artifacts"]
}

moved {
  from = module.lake_bucket
  to   = module.buckets["alerts-lake"]
}

moved {
  from = module.athena_results_bucket
  to   = module.buckets["athena-results"]
}

# ---- Stream processing ------------------------------------------------------------

module "flink_app" {
  source = "./modules/flink_app"

  name                   = "${local.name}-detector"
  code_zip               = var.flink_zip
  artifacts_bucket_name  = module.buckets["artifacts"].name
  artifacts_bucket_arn   = module.buckets["artifacts"].arn
  model_prefix           = var.model_prefix
  model_poll_interval_ms = var.model_poll_interval_ms
  enhanced_fan_out       = var.enhanced_fan_out
  rules_prefix           = var.rules_prefix
  rules_poll_interval_ms = var.rules_poll_interval_ms

  transactions_stream_name = local.job_streams.names["transactions"]
  transactions_stream_arn  = local.job_streams.arns["transactions"]
  labels_stream_name       = local.job_streams.names["labels"]
  labels_stream_arn        = local.job_streams.arns["labels"]
  alerts_stream_name       = local.job_streams.names["alerts"]
  alerts_stream_arn        = local.job_streams.arns["alerts"]
  deadletter_stream_name   = local.job_streams.names["deadletter"]
  deadletter_stream_arn    = local.job_streams.arns["deadletter"]
  decisions_stream_name    = local.job_streams.names["decisions"]
  decisions_stream_arn     = local.job_streams.arns["decisions"]
  decisions_sample_rate    = var.decisions_sample_rate
  outputs_since_ms         = var.outputs_since_ms

  source_initial_position           = var.source_initial_position
  watermark_max_out_of_orderness_ms = var.watermark_max_out_of_orderness_ms
  transactions_max_future_ms        = var.transactions_max_future_ms
  transactions_max_age_ms           = var.transactions_max_age_ms
  transactions_max_amount           = var.transactions_max_amount
  labels_max_future_ms              = var.labels_max_future_ms
  parallelism                       = var.flink_parallelism
  parallelism_per_kpu               = var.flink_parallelism_per_kpu
  auto_scaling_enabled              = var.flink_auto_scaling
  checkpoint_interval_ms            = var.flink_checkpoint_interval_ms
  start_application                 = var.start_application

  kms_key_arn        = module.kms.key_arn
  log_retention_days = var.log_retention_days
}

module "sagemaker" {
  source          = "./modules/sagemaker"
  name            = local.name
  bucket_name     = module.buckets["artifacts"].name
  bucket_arn      = module.buckets["artifacts"].arn
  training_prefix = var.training_prefix
  output_prefix   = var.sagemaker_output_prefix
  kms_key_arn     = module.kms.key_arn

  archive_bucket_arn = module.archive.bucket_arn
}

# ---- Alert fan-out ----------------------------------------------------------------

module "alert_fanout" {
  source = "./modules/alert_fanout"

  name              = "${local.name}-alert-fanout"
  lambda_zip        = var.fanout_zip
  lambda_runtime    = var.lambda_runtime
  alerts_stream_arn = module.streams.arns["alerts"]

  reserved_concurrency       = lookup(var.lambda_reserved_concurrency, "fanout", null)
  flush_reserved_concurrency = lookup(var.lambda_reserved_concurrency, "flush", null)

  lake_bucket_name       = module.buckets["alerts-lake"].name
  lake_bucket_arn        = module.buckets["alerts-lake"].arn
  lake_prefix            = var.lake_prefix
  alerts_table_name      = "${local.name}-alerts"
  email_state_table_name = "${local.name}-alerts-email-state"
  deletion_protection    = var.deletion_protection

  email_from                  = var.email_from
  ses_identity                = var.ses_identity
  email_to                    = var.email_to
  verify_recipients           = var.ses_verify_recipients
  email_min_severity          = var.email_min_severity
  email_card_interval_seconds = var.email_card_interval_seconds
  console_base_url            = try(coalesce(var.console_base_url, module.api.console_url), "")
  ses_template_file           = var.ses_template_file

  kms_key_arn        = module.kms.key_arn
  log_retention_days = var.log_retention_days
}

# ---- Analytics --------------------------------------------------------------------

module "analytics" {
  source = "./modules/analytics"

  database_name                    = local.glue_database_name
  table_name                       = "alerts"
  lake_bucket_name                 = module.buckets["alerts-lake"].name
  lake_prefix                      = var.lake_prefix
  workgroup_name                   = local.name
  results_bucket_name              = module.buckets["athena-results"].name
  enable_quicksight                = var.enable_quicksight
  quicksight_principal_arn         = var.quicksight_principal_arn
  quicksight_dashboard_reader_arns = var.quicksight_dashboard_reader_arns
  force_destroy                    = var.force_destroy
  kms_key_arn                      = module.kms.key_arn
}

# ---- Transaction and label archive (training history) -----------------------------

module "archive" {
  source = "./modules/archive"

  name        = local.name
  bucket_name = "${local.name}-archive-${local.bucket_suffix}"
  stream_arns = {
    transactions = module.streams.arns["transactions"]
    labels       = module.streams.arns["labels"]
  }
  decisions_stream_arn = module.streams.arns["decisions"]
  database_name        = module.analytics.database_name
  kms_key_arn          = module.kms.key_arn
  access_log_bucket    = module.access_logs_bucket.name
  mask_lambda_zip      = var.archive_mask_zip
  reserved_concurrency = lookup(var.lambda_reserved_concurrency, "archive_mask", null)
  lambda_runtime       = var.lambda_runtime
  retention_days       = var.archive_retention_days
  log_retention_days   = var.log_retention_days
  force_destroy        = var.force_destroy
}

# ---- Analyst API and console ------------------------------------------------------

module "api" {
  source = "./modules/api"

  name                  = "${local.name}-api"
  api_lambda_zip        = var.api_zip
  reserved_concurrency  = lookup(var.lambda_reserved_concurrency, "api", null)
  lambda_runtime        = var.lambda_runtime
  alerts_table_name     = module.alert_fanout.alerts_table_name
  alerts_table_arn      = module.alert_fanout.alerts_table_arn
  labels_stream_name    = module.streams.names["labels"]
  labels_stream_arn     = module.streams.arns["labels"]
  cognito_domain_prefix = "${local.name}-${data.aws_caller_identity.current.account_id}"
  audit_bucket_name     = "${local.name}-verdict-audit-${data.aws_caller_identity.current.account_id}"
  ledger_table_name     = "${local.name}-label-ledger"
  changes_table_name    = "${local.name}-rule-changes"
  rules_bucket_name     = module.buckets["artifacts"].name
  rules_bucket_arn      = module.buckets["artifacts"].arn
  rules_prefix          = var.rules_prefix
  alarm_actions         = [module.monitoring.alarm_topic_arn]

  archive_bucket_name       = module.archive.bucket_name
  archive_bucket_arn        = module.archive.bucket_arn
  glue_database_name        = module.analytics.database_name
  athena_workgroup_name     = module.analytics.workgroup_name
  athena_results_bucket_arn = module.buckets["athena-results"].arn
  extra_callback_urls       = var.extra_callback_urls

  allow_local_development_urls = var.allow_local_development_urls
  console_artifact             = var.console_artifact
  enable_amplify               = var.enable_amplify
  deletion_protection          = var.deletion_protection

  kms_key_arn        = module.kms.key_arn
  log_retention_days = var.log_retention_days
}

# ---- Monitoring -------------------------------------------------------------------

module "monitoring" {
  source = "./modules/monitoring"

  name                              = local.name
  flink_application_name            = module.flink_app.application_name
  job_expected_running              = var.start_application
  transactions_stream_name          = module.streams.names["transactions"]
  alerts_stream_name                = module.streams.names["alerts"]
  deadletter_stream_name            = module.streams.names["deadletter"]
  decisions_stream_name             = module.streams.names["decisions"]
  decision_log_delivery_stream_name = module.archive.decisions_delivery_stream_name
  fanout_queue_name                 = module.alert_fanout.on_failure_queue_name
  lambda_function_names = {
    fanout = module.alert_fanout.function_names["fanout"]
    flush  = module.alert_fanout.function_names["flush"]
    api    = module.api.api_function_name
  }
  alarm_emails = var.alarm_emails
  kms_key_arn  = module.kms.key_arn
}
