# ---- Where and what ---------------------------------------------------------------

variable "aws_region" {
  type        = string
  description = "AWS region to deploy to (Managed Flink FLINK-1_20, SES and QuickSight must be available there)."
}

variable "project" {
  type        = string
  description = "Project name: prefix of resource names and the Project tag."
  default     = "fraud-stream"
}

variable "environment" {
  type        = string
  description = "Environment name (dev, staging, prod): part of every resource name (so environments share an account and region without colliding) and the Environment tag."
  default     = "dev"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{0,9}$", var.environment))
    error_message = "environment must be 1-10 lowercase letters or digits, starting with a letter (it is part of bucket names, at most 63 characters)."
  }
}

variable "tags" {
  type        = map(string)
  description = "Extra tags on every resource (the provider's default_tags)."
  default     = {}
}

variable "force_destroy" {
  type        = bool
  description = "Let terraform destroy delete non-empty buckets and the Athena workgroup (set true for throw-away environments)."
  default     = false
}

variable "deletion_protection" {
  type        = bool
  description = "Protect the DynamoDB tables and the Cognito user pool against deletion."
  default     = true
}

variable "log_retention_days" {
  type        = number
  description = "Retention of every CloudWatch log group, in days."
  default     = 365
}

# ---- Artefacts (make package) -----------------------------------------------------

variable "flink_zip" {
  type        = string
  description = "Managed Flink application zip, relative to infra/terraform."
  default     = "../../build/package/fraud-stream-flink.zip"
}

variable "fanout_zip" {
  type        = string
  description = "Alert fan-out Lambda zip, relative to infra/terraform."
  default     = "../../build/package/alert-fanout.zip"
}

variable "api_zip" {
  type        = string
  description = "API Lambda zip (make package), relative to infra/terraform; null creates the API without routes."
  default     = "../../build/package/api.zip"
}

variable "console_artifact" {
  type        = string
  description = "Built console (zip of the static site) deployed to Amplify, relative to infra/terraform."
  default     = "../../build/package/console.zip"
}

variable "ses_template_file" {
  type        = string
  description = "SES template the fan-out renders (CreateEmailTemplate JSON), relative to infra/terraform."
  default     = "../../lambdas/alert_fanout/templates/fraud-alert.json"
}

variable "lambda_reserved_concurrency" {
  type        = map(number)
  description = "Reserved concurrency by function: fanout, flush, api, archive_mask; {} reserves none. AWS keeps 100 of the account's Lambda concurrency unreserved: check the quota first (infra/README.md, Prerequisites)."
  default     = {}

  validation {
    condition     = length(setsubtract(keys(var.lambda_reserved_concurrency), ["fanout", "flush", "api", "archive_mask"])) == 0
    error_message = "lambda_reserved_concurrency takes only the keys fanout, flush, api and archive_mask."
  }
}

variable "lambda_runtime" {
  type        = string
  description = "Python runtime of the Lambdas."
  default     = "python3.11"
}

# ---- Streams ----------------------------------------------------------------------

variable "stream_name_prefix" {
  type        = string
  description = "Prefix of the Kinesis stream names (transactions, labels, alerts, transactions-dlq, decisions); null: \"<project>-<environment>-\", \"\" for the bare names."
  default     = null
}

variable "stream_mode" {
  type        = string
  description = "ON_DEMAND or PROVISIONED Kinesis capacity."
  default     = "ON_DEMAND"
}

variable "shard_count" {
  type        = number
  description = "Shards per stream when stream_mode is PROVISIONED."
  default     = 1
}

variable "stream_retention_hours" {
  type        = number
  description = "Kinesis retention in hours."
  default     = 24
}

# ---- Flink job --------------------------------------------------------------------

variable "start_application" {
  type        = bool
  description = "Run the Managed Flink application (true) or leave it stopped (false); also arms the job-not-running alarm."
  default     = false
}

variable "model_prefix" {
  type        = string
  description = "Key prefix in the artifacts bucket of the model registry root (versions/<version>/, current.json)."
  default     = "models/"
}

variable "model_poll_interval_ms" {
  type        = number
  description = "How often the job checks the registry for a newly promoted model, in milliseconds."
  default     = 30000
}

variable "rules_prefix" {
  type        = string
  description = "Key prefix in the artifacts bucket of the rule registry root (rulesets/, lists/<name>/; model_export/rules_registry.py)."
  default     = "rules/"
}

variable "rules_poll_interval_ms" {
  type        = number
  description = "How often the job checks the rule registry for a new rule set or list version, in milliseconds."
  default     = 5000
}

variable "source_initial_position" {
  type        = string
  description = "Where a job without state starts reading transactions: LATEST or TRIM_HORIZON."
  default     = "LATEST"
}

variable "watermark_max_out_of_orderness_ms" {
  type        = number
  description = "Event-time lateness bound of the job, in milliseconds (later transactions are scored alone, flagged late)."
  default     = 300000
}

variable "decisions_sample_rate" {
  type        = number
  description = "Share of non-alert decisions the job writes to the decision log, in (0, 1]; alerts are always written, each record carries its weight (decisions.sample_rate)."
  default     = 1.0

  validation {
    condition     = var.decisions_sample_rate > 0 && var.decisions_sample_rate <= 1
    error_message = "decisions_sample_rate must be in (0, 1]."
  }
}

variable "flink_parallelism" {
  type        = number
  description = "Initial parallelism of the job."
  default     = 1
}

variable "flink_parallelism_per_kpu" {
  type        = number
  description = "Parallel tasks per KPU."
  default     = 1
}

variable "flink_auto_scaling" {
  type        = bool
  description = "Let Managed Flink scale the job with load."
  default     = true
}

variable "flink_checkpoint_interval_ms" {
  type        = number
  description = "Checkpoint interval in milliseconds."
  default     = 60000
}

# ---- Training ---------------------------------------------------------------------

variable "training_prefix" {
  type        = string
  description = "Key prefix in the artifacts bucket of SageMaker training input."
  default     = "training/"
}

variable "sagemaker_output_prefix" {
  type        = string
  description = "Key prefix in the artifacts bucket SageMaker writes model artefacts to."
  default     = "sagemaker/output/"
}

# ---- Alerts -----------------------------------------------------------------------

variable "lake_prefix" {
  type        = string
  description = "Key prefix of the alerts lake table (ALERTS_PREFIX)."
  default     = "alerts/"
}

variable "lake_retention_days" {
  type        = number
  description = "Days alerts are kept in the lake."
  default     = 730
}

variable "email_from" {
  type        = string
  description = "Sender of alert e-mails; verified as an SES identity unless ses_identity names its domain."
}

variable "ses_identity" {
  type        = string
  description = "SES identity to create (a domain or an address); null verifies email_from itself."
  default     = null
}

variable "email_to" {
  type        = list(string)
  description = "Recipients of alert e-mails (in the SES sandbox they must be verified too: ses_verify_recipients)."
}

variable "ses_verify_recipients" {
  type        = bool
  description = "Create each of email_to as an SES identity and allow sending to it, as the SES sandbox of a new account requires (each recipient confirms a link SES e-mails it); false once the account has production access."
  default     = true
}

variable "email_min_severity" {
  type        = string
  description = "Alerts at or above this severity are e-mailed: low, medium or high."
  default     = "high"
}

variable "email_card_interval_seconds" {
  type        = number
  description = "At most one e-mail per card per interval, in seconds."
  default     = 900
}

variable "console_base_url" {
  type        = string
  description = "Console URL linked from e-mails; null uses the Amplify branch URL."
  default     = null
}

variable "glue_database_name" {
  type        = string
  description = "Glue database of the alerts lake and the archive; null: \"<project>_<environment>\" (hyphens as underscores)."
  default     = null
}

variable "archive_mask_zip" {
  type        = string
  description = "Zip of the archive's card-number masking Lambda (make package), relative to infra/terraform."
  default     = "../../build/package/archive-mask.zip"
}

variable "archive_retention_days" {
  type        = number
  description = "Days the transaction and label archive keeps records (the history models train on); null keeps them."
  default     = 400
}

variable "enable_quicksight" {
  type        = bool
  description = "Create the QuickSight data source, data sets, analysis and dashboard (needs a QuickSight Enterprise subscription; see infra/README.md)."
  default     = false
}

variable "quicksight_principal_arn" {
  type        = string
  description = "QuickSight user or group ARN that owns the data source, data sets, analysis and dashboard (required when enable_quicksight)."
  default     = null
}

variable "quicksight_dashboard_reader_arns" {
  type        = list(string)
  description = "QuickSight users or groups that may open the alerts dashboard without editing it."
  default     = []
}

# ---- Console and alarms -----------------------------------------------------------

variable "enable_amplify" {
  type        = bool
  description = "Host the analyst console on Amplify. false leaves Amplify out (moto serves no Amplify API; infra/README.md, Applied against moto): the console is then hosted elsewhere, its origin in extra_callback_urls."
  default     = true
}

variable "extra_callback_urls" {
  type        = list(string)
  description = "Extra allowed origins and OAuth callback URLs: https://, or http://localhost only with allow_local_development_urls."
  default     = []
}

variable "allow_local_development_urls" {
  type        = bool
  description = "Let http://localhost and http://127.0.0.1 into extra_callback_urls: a development stack only, never production."
  default     = false
}

variable "alarm_emails" {
  type        = list(string)
  description = "Addresses that receive CloudWatch alarm notifications."
  default     = []
}

variable "transactions_max_future_ms" {
  type        = number
  description = "A transaction whose event_time is later than its Kinesis arrival plus this (ms) is dead-lettered: no record may move event time ahead for others."
  default     = 60000
  validation {
    condition     = var.transactions_max_future_ms >= 0
    error_message = "transactions_max_future_ms must be >= 0."
  }
}

variable "transactions_max_age_ms" {
  type        = number
  description = "A transaction whose event_time is earlier than its Kinesis arrival minus this (ms) is dead-lettered."
  default     = 604800000
  validation {
    condition     = var.transactions_max_age_ms > 0
    error_message = "transactions_max_age_ms must be > 0."
  }
}

variable "transactions_max_amount" {
  type        = number
  description = "Largest transaction amount accepted; larger amounts are dead-lettered."
  default     = 1000000
  validation {
    condition     = var.transactions_max_amount > 0
    error_message = "transactions_max_amount must be > 0."
  }
}

variable "labels_max_future_ms" {
  type        = number
  description = "A label whose reported_at is later than its Kinesis arrival plus this (ms) is ignored."
  default     = 60000
  validation {
    condition     = var.labels_max_future_ms >= 0
    error_message = "labels_max_future_ms must be >= 0."
  }
}

variable "enhanced_fan_out" {
  type        = bool
  description = "The job reads the transactions stream through an enhanced fan-out consumer: records pushed within about 70 ms instead of polled every 200 ms or more; adds the consumer-shard hours and the GB read through it to the bill (docs/benchmarks.md, sizing). Off by default."
  default     = false
}

variable "outputs_since_ms" {
  type        = number
  description = "Transactions that arrived on Kinesis before this instant (epoch ms) update the job's state but alert no one (their decisions are logged again under the same decision_id): after a bootstrap, the moment the application it replaces stopped (docs/deployment.md). 0: every transaction alerts."
  default     = 0
  validation {
    condition     = var.outputs_since_ms >= 0
    error_message = "outputs_since_ms must be >= 0."
  }
}

variable "bootstrap" {
  type        = bool
  description = "Point the job at the \"<prefix>bootstrap-\" streams (created while true) to build its state from the archive with `python -m local.bootstrap` (docs/deployment.md). Off in normal operation."
  default     = false
}
