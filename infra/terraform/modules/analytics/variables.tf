variable "database_name" {
  type        = string
  description = "Glue database of the alerts lake."
  default     = "fraud"
}

variable "table_name" {
  type        = string
  description = "Glue table over the alerts lake."
  default     = "alerts"
}

variable "lake_bucket_name" {
  type        = string
  description = "Bucket of the alerts lake."
}

variable "lake_prefix" {
  type        = string
  description = "Key prefix of the alerts (ends in /), as the fan-out writes them."
  default     = "alerts/"
}

variable "projection_start_date" {
  type        = string
  description = "First dt partition projected (yyyy-MM-dd)."
  default     = "2026-01-01"
}

variable "workgroup_name" {
  type        = string
  description = "Athena workgroup."
}

variable "results_bucket_name" {
  type        = string
  description = "Bucket for Athena query results."
}

variable "bytes_scanned_cutoff_per_query" {
  type        = number
  description = "Athena cancels a query scanning more bytes than this (cost guard)."
  default     = 10737418240
}

variable "force_destroy" {
  type        = bool
  description = "Let terraform destroy delete the workgroup with its saved queries."
  default     = false
}

variable "enable_quicksight" {
  type        = bool
  description = "Create the QuickSight data source and data set (needs a QuickSight Enterprise subscription)."
  default     = false
}

variable "quicksight_principal_arn" {
  type        = string
  description = "QuickSight user or group ARN granted the data source and data set (arn:aws:quicksight:<region>:<account>:user/default/<name>)."
  default     = null

  validation {
    condition     = var.quicksight_principal_arn == null || can(regex("^arn:[^:]+:quicksight:", var.quicksight_principal_arn))
    error_message = "quicksight_principal_arn must be a QuickSight user or group ARN."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key that encrypts Athena results."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the module's resources."
  default     = {}
}
