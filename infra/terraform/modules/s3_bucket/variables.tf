variable "name" {
  type        = string
  description = "Globally unique bucket name."
}

variable "access_log_target" {
  type        = bool
  description = "This bucket receives the other buckets' server access logs: SSE-S3 (S3 log delivery supports no SSE-KMS target), not access-logged itself, S3's log delivery may write to it."
  default     = false
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key for default encryption (SSE-KMS); required unless access_log_target."
  default     = null
}

variable "access_log_bucket" {
  type        = string
  description = "Bucket that receives this bucket's server access logs; required unless access_log_target."
  default     = null
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
