variable "name" {
  type        = string
  description = "Prefix of the alarms, topic and dashboard."
}

variable "flink_application_name" {
  type        = string
  description = "Managed Flink application to watch."
}

variable "job_expected_running" {
  type        = bool
  description = "Send job-not-running notifications (false while the job is deliberately stopped)."
  default     = true
}

variable "transactions_stream_name" {
  type        = string
  description = "Source stream whose iterator age is watched."
}

variable "alerts_stream_name" {
  type        = string
  description = "Alerts stream (dashboard)."
}

variable "deadletter_stream_name" {
  type        = string
  description = "Dead-letter stream whose incoming records are watched."
}

variable "decisions_stream_name" {
  type        = string
  description = "The decision log's stream, whose throttled writes are watched."
}

variable "decision_log_delivery_stream_name" {
  type        = string
  description = "The decision log's Firehose delivery stream, whose failed deliveries to S3 are watched."
}

variable "fanout_queue_name" {
  type        = string
  description = "On-failure SQS queue of the fan-out whose depth is watched."
}

variable "lambda_function_names" {
  type        = map(string)
  description = "Function name by role (fanout, flush, api); null values are skipped. 'fanout' is required."
}

variable "iterator_age_threshold_ms" {
  type        = number
  description = "Iterator age (ms) above which readers are considered behind."
  default     = 60000
}

variable "deadletter_threshold" {
  type        = number
  description = "Dead-lettered transactions per 5 minutes tolerated before alarming."
  default     = 10
}

variable "deadletter_ratio_threshold" {
  type        = number
  description = "Fraction of the transactions put in 5 minutes that may be dead-lettered before alarming."
  default     = 0.01

  validation {
    condition     = var.deadletter_ratio_threshold > 0 && var.deadletter_ratio_threshold < 1
    error_message = "deadletter_ratio_threshold is a fraction in (0, 1)."
  }
}

variable "late_ratio_threshold" {
  type        = number
  description = "Fraction of the transactions scored in 5 minutes that may be late (behind the watermark) before alarming."
  default     = 0.01

  validation {
    condition     = var.late_ratio_threshold > 0 && var.late_ratio_threshold < 1
    error_message = "late_ratio_threshold is a fraction in (0, 1)."
  }
}

variable "alarm_emails" {
  type        = list(string)
  description = "Addresses subscribed to the alarm topic (each must confirm)."
  default     = []
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key of the SNS topic."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the module's resources."
  default     = {}
}
