variable "name" {
  type        = string
  description = "Globally unique name of the access-log bucket."
}

variable "expiration_days" {
  type        = number
  description = "Days access logs are kept."
  default     = 365
}

variable "force_destroy" {
  type        = bool
  description = "Allow terraform destroy to delete the bucket while it still holds logs."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the bucket."
  default     = {}
}
