variable "name" {
  type        = string
  description = "Name prefix of the delivery streams, the Lambda, roles and log group."
}

variable "bucket_name" {
  type        = string
  description = "Globally unique name of the archive bucket."
}

variable "stream_arns" {
  type        = map(string)
  description = "ARNs of the Kinesis streams to archive, by record kind: exactly transactions and labels."

  validation {
    condition     = toset(keys(var.stream_arns)) == toset(["transactions", "labels"])
    error_message = "stream_arns must name exactly the transactions and labels streams."
  }
}

variable "decisions_stream_arn" {
  type        = string
  description = "ARN of the Kinesis stream the job writes Decision v1 records to (the decision log)."
}

variable "decisions_buffering_interval_s" {
  type        = number
  description = "Longest time Firehose buffers decisions before writing a Parquet object (60-900 s): how stale the decision log may be."
  default     = 300

  validation {
    condition     = var.decisions_buffering_interval_s >= 60 && var.decisions_buffering_interval_s <= 900
    error_message = "decisions_buffering_interval_s must be between 60 and 900."
  }
}

variable "database_name" {
  type        = string
  description = "Glue database that gets the transactions and labels tables (the alerts lake's)."
}

variable "kms_key_arn" {
  type        = string
  description = "The project's KMS key: the streams' encryption, the archive's SSE-KMS, the log group."
}

variable "access_log_bucket" {
  type        = string
  description = "Bucket that receives the archive bucket's server access logs."
}

variable "mask_lambda_zip" {
  type        = string
  description = "Zip of the card-number masking transformation (make package: archive-mask.zip)."
}

variable "reserved_concurrency" {
  type        = number
  description = "Reserved concurrency of the masking Lambda; null reserves none."
  default     = null
}

variable "lambda_runtime" {
  type        = string
  description = "Python runtime of the masking Lambda."
  default     = "python3.11"
}

variable "buffering_interval_s" {
  type        = number
  description = "Longest time Firehose buffers records before writing a Parquet object (60-900 s)."
  default     = 900

  validation {
    condition     = var.buffering_interval_s >= 60 && var.buffering_interval_s <= 900
    error_message = "buffering_interval_s must be between 60 and 900."
  }
}

variable "buffering_size_mb" {
  type        = number
  description = "Buffer size before a Parquet object is written; 64-128 MB (the minimum with format conversion and dynamic partitioning is 64)."
  default     = 128

  validation {
    condition     = var.buffering_size_mb >= 64 && var.buffering_size_mb <= 128
    error_message = "buffering_size_mb must be between 64 and 128."
  }
}

variable "transition_to_ia_days" {
  type        = number
  description = "Days after which archived objects move to STANDARD_IA."
  default     = 30
}

variable "retention_days" {
  type        = number
  description = "Days the archive keeps transactions and labels (training history); null keeps them."
  default     = 400
}

variable "projection_start_date" {
  type        = string
  description = "First dt partition projected by the Glue tables (yyyy-MM-dd)."
  default     = "2026-01-01"
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the delivery streams' and the Lambda's CloudWatch logs."
  default     = 30
}

variable "force_destroy" {
  type        = bool
  description = "Let terraform destroy delete the archive bucket with its objects."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the module's resources."
  default     = {}
}
