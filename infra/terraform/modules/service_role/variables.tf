variable "name" {
  type        = string
  description = "Name of the role."
}

variable "service" {
  type        = string
  description = "Service principal that assumes the role, e.g. lambda.amazonaws.com."
}

variable "trust_account_key" {
  type        = string
  description = "Condition key the trust policy holds to this account (aws:SourceAccount; sts:ExternalId for Firehose); null for none."
  default     = null

  validation {
    condition     = var.trust_account_key == null || contains(["aws:SourceAccount", "sts:ExternalId"], coalesce(var.trust_account_key, "-"))
    error_message = "trust_account_key is aws:SourceAccount, sts:ExternalId or null."
  }
}

variable "policy_name" {
  type        = string
  description = "Name of the role's inline policy."
}

variable "policy" {
  type        = string
  description = "The role's inline policy (JSON, from an aws_iam_policy_document of the calling module)."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the role."
  default     = {}
}
