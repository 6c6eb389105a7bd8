variable "name" {
  type        = string
  description = "Name of the key's alias (alias/<name>) and prefix of its description."
}

variable "deletion_window_in_days" {
  type        = number
  description = "Days a deleted key stays recoverable (7-30)."
  default     = 30
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the key (the provider's default_tags apply as well)."
  default     = {}
}
