variable "stream_names" {
  type        = map(string)
  description = "Stream name by role: transactions, labels, alerts, deadletter, decisions."

  validation {
    condition     = toset(keys(var.stream_names)) == toset(["transactions", "labels", "alerts", "deadletter", "decisions"])
    error_message = "stream_names must have exactly the roles transactions, labels, alerts, deadletter and decisions."
  }
}

variable "stream_mode" {
  type        = string
  description = "ON_DEMAND (pay per GB, scales itself) or PROVISIONED (pay per shard-hour)."
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "PROVISIONED"], var.stream_mode)
    error_message = "stream_mode must be ON_DEMAND or PROVISIONED."
  }
}

variable "shard_count" {
  type        = number
  description = "Shards per stream when stream_mode is PROVISIONED (1 MB/s or 1,000 records/s written per shard)."
  default     = 1
}

variable "retention_hours" {
  type        = number
  description = "How long records stay readable, in hours (24-8760)."
  default     = 24
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key that encrypts the streams."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every stream."
  default     = {}
}
