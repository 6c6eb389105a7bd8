variable "name" {
  type        = string
  description = "Globally unique bucket name."
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key for default encryption (SSE-KMS)."
}

variable "access_log_bucket" {
  type        = string
  description = "Bucket that receives this bucket's server access logs."
}

variable "noncurrent_version_expiration_days" {
  type        = number
  description = "Days after which overwritten or deleted object versions are removed."
  default     = 30
}

variable "transition_to_ia_days" {
  type        = number
  description = "Days after which objects move to STANDARD_IA; null keeps them in STANDARD."
  default     = null
}

variable "expiration_days" {
  type        = number
  description = "Days after which current objects expire; null keeps them."
  default     = null
}

variable "extra_policy_documents" {
  type        = list(string)
  description = "Further bucket policy documents (JSON) merged with the TLS-only statement."
  default     = []
}

variable "force_destroy" {
  type        = bool
  description = "Allow terraform destroy to delete a bucket that still holds objects."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the bucket."
  default     = {}
}
