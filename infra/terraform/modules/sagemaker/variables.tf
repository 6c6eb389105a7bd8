variable "name" {
  type        = string
  description = "Prefix of the execution role's name."
}

variable "bucket_name" {
  type        = string
  description = "Bucket holding training input and output (the artifacts bucket)."
}

variable "bucket_arn" {
  type        = string
  description = "ARN of that bucket."
}

variable "training_prefix" {
  type        = string
  description = "Key prefix (ending in /) of the training data SageMaker reads."
  default     = "training/"
}

variable "output_prefix" {
  type        = string
  description = "Key prefix (ending in /) SageMaker writes model artefacts to."
  default     = "sagemaker/output/"
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key of the bucket."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the role."
  default     = {}
}

variable "archive_bucket_arn" {
  type        = string
  description = "ARN of the transaction and label archive (modules/archive); the role may read its transactions/ and labels/ prefixes. null: no access."
  default     = null
}
