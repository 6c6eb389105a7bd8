variable "name" {
  type        = string
  description = "Prefix of the functions, queue, role, configuration set and schedule."
}

variable "lambda_zip" {
  type        = string
  description = "Local path of alert-fanout.zip built by `make package`."
}

variable "lambda_runtime" {
  type        = string
  description = "Lambda Python runtime."
  default     = "python3.11"
}

variable "reserved_concurrency" {
  type        = number
  description = "Reserved concurrency of the fan-out function (one per shard is enough with parallelization factor 1); null reserves none."
  default     = null
}

variable "flush_reserved_concurrency" {
  type        = number
  description = "Reserved concurrency of the scheduled flush function (1 keeps two flushes from overlapping); null reserves none."
  default     = null
}

variable "alerts_stream_arn" {
  type        = string
  description = "ARN of the alerts stream the function reads."
}

variable "starting_position" {
  type        = string
  description = "Where the event-source mapping starts: TRIM_HORIZON or LATEST."
  default     = "TRIM_HORIZON"
}

variable "lake_bucket_name" {
  type        = string
  description = "Bucket of the alerts lake (ALERTS_BUCKET)."
}

variable "lake_bucket_arn" {
  type        = string
  description = "ARN of the alerts lake bucket."
}

variable "lake_prefix" {
  type        = string
  description = "Key prefix of the alerts lake table (ALERTS_PREFIX, ends in /)."
  default     = "alerts/"
}

variable "alerts_table_name" {
  type        = string
  description = "DynamoDB alert table (ALERTS_TABLE)."
}

variable "email_state_table_name" {
  type        = string
  description = "DynamoDB per-card e-mail state table (EMAIL_STATE_TABLE)."
}

variable "deletion_protection" {
  type        = bool
  description = "Protect the DynamoDB tables against deletion."
  default     = true
}

variable "email_from" {
  type        = string
  description = "Sender address of alert e-mails (EMAIL_FROM); must be a verified SES identity or in a verified domain."
}

variable "ses_identity" {
  type        = string
  description = "SES identity to create: a domain or an address; null uses email_from."
  default     = null
}

variable "email_to" {
  type        = list(string)
  description = "Recipients of alert e-mails (EMAIL_TO)."
}

variable "verify_recipients" {
  type        = bool
  description = "Create each of email_to as an SES identity (SES e-mails it a verification link) and allow sending to it: what the SES sandbox requires. false once the account has production access."
  default     = true
}

variable "email_min_severity" {
  type        = string
  description = "Alerts at or above this severity are e-mailed: low, medium or high."
  default     = "high"

  validation {
    condition     = contains(["low", "medium", "high"], var.email_min_severity)
    error_message = "email_min_severity must be low, medium or high."
  }
}

variable "email_card_interval_seconds" {
  type        = number
  description = "At most one e-mail per card per interval; 0 turns the throttle off."
  default     = 900
}

variable "email_rendering" {
  type        = string
  description = "handler: render the template in the function; ses: send with the stored SES template."
  default     = "handler"
}

variable "console_base_url" {
  type        = string
  description = "Base URL of the analyst console, linked from the e-mail."
}

variable "ses_template_file" {
  type        = string
  description = "Path of the SES template JSON (CreateEmailTemplate shape) the handler renders too."
}

variable "flush_schedule" {
  type        = string
  description = "EventBridge schedule of the flush function."
  default     = "rate(5 minutes)"
}

variable "log_level" {
  type        = string
  description = "Powertools log level."
  default     = "INFO"
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the functions' log groups, in days."
  default     = 365
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key of the stream, bucket, tables, queue, logs and environment variables."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the module's resources."
  default     = {}
}
