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
  description = "Create the QuickSight data source, data sets, analysis and dashboard (needs a QuickSight Enterprise subscription)."
  default     = false
}

variable "quicksight_principal_arn" {
  type        = string
  description = "QuickSight user or group ARN that owns the data source, data sets, analysis and dashboard (arn:aws:quicksight:<region>:<account>:user/default/<name> or :group/default/<name>). Required when enable_quicksight is true."
  default     = null

  validation {
    condition     = var.quicksight_principal_arn == null || can(regex("^arn:aws[a-z-]*:quicksight:[a-z0-9-]+:[0-9]+:(user|group)/[^/]+/.+$", var.quicksight_principal_arn))
    error_message = "quicksight_principal_arn must be a QuickSight user or group ARN: arn:aws:quicksight:<region>:<account>:user/<namespace>/<name> (or group/...)."
  }
}

variable "quicksight_dashboard_reader_arns" {
  type        = list(string)
  description = "QuickSight users or groups that may open the alerts dashboard without editing it (same ARN form as quicksight_principal_arn)."
  default     = []

  validation {
    condition     = alltrue([for arn in var.quicksight_dashboard_reader_arns : can(regex("^arn:aws[a-z-]*:quicksight:[a-z0-9-]+:[0-9]+:(user|group)/[^/]+/.+$", arn))])
    error_message = "quicksight_dashboard_reader_arns must hold QuickSight user or group ARNs: arn:aws:quicksight:<region>:<account>:group/<namespace>/<name>."
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
