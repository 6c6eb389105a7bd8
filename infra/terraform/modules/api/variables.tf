variable "name" {
  type        = string
  description = "Name of the API, user pool, function and Amplify app."
}

variable "api_lambda_zip" {
  type        = string
  description = "Local path of api.zip built by `make package` (build/package/api.zip); null: the API has no routes."
  default     = null
}

variable "api_handler" {
  type        = string
  description = "Handler of the API Lambda."
  default     = "lambdas.api.handler.lambda_handler"
}

variable "lambda_runtime" {
  type        = string
  description = "Lambda Python runtime."
  default     = "python3.11"
}

variable "reserved_concurrency" {
  type        = number
  description = "Reserved concurrency of the API function; null reserves none."
  default     = null
}

variable "alerts_table_name" {
  type        = string
  description = "DynamoDB alert table the API reads and updates."
}

variable "alerts_table_arn" {
  type        = string
  description = "ARN of the DynamoDB alert table."
}

variable "labels_stream_name" {
  type        = string
  description = "Kinesis stream analyst feedback is published to as Label v1."
}

variable "labels_stream_arn" {
  type        = string
  description = "ARN of the labels stream."
}

variable "cognito_domain_prefix" {
  type        = string
  description = "Prefix of the Cognito hosted UI domain (<prefix>.auth.<region>.amazoncognito.com); globally unique."
}

variable "extra_callback_urls" {
  type        = list(string)
  description = "More allowed origins and OAuth callback URLs (https://; http://localhost only with allow_local_development_urls)."
  default     = []
}

variable "allow_local_development_urls" {
  type        = bool
  description = "Let http://localhost and http://127.0.0.1 URLs into extra_callback_urls: a development stack only, never production."
  default     = false
}

variable "enable_amplify" {
  type        = bool
  description = "Host the console on an Amplify app and branch; false creates neither (the console is then served elsewhere, its origin in extra_callback_urls)."
  default     = true
}

variable "console_branch" {
  type        = string
  description = "Amplify branch that serves the console."
  default     = "main"
}

variable "console_artifact" {
  type        = string
  description = "Local path of the console's build artefact (a zip of the built site), deployed with `aws amplify start-deployment`."
  default     = "build/package/console.zip"
}

variable "throttling_burst_limit" {
  type        = number
  description = "HTTP API burst limit."
  default     = 50
}

variable "throttling_rate_limit" {
  type        = number
  description = "HTTP API steady-state requests per second."
  default     = 25
}

variable "deletion_protection" {
  type        = bool
  description = "Protect the user pool against deletion."
  default     = true
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the API's log groups, in days."
  default     = 365
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key of logs, queue, table, stream and environment variables."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the module's resources."
  default     = {}
}

variable "audit_bucket_name" {
  type        = string
  description = "S3 bucket of the verdict audit trail (Object Lock, compliance mode); globally unique."
}

variable "audit_retention_days" {
  type        = number
  description = "Days each verdict's audit record is locked against deletion and change."
  default     = 400
}

variable "ledger_table_name" {
  type        = string
  description = "DynamoDB table of analysts' labels, their holds and per-analyst counts."
}

variable "label_hold_seconds" {
  type        = number
  description = "An analyst's label waits this long for a reversal before it reaches the labels stream, unless a second analyst gives the same label."
  default     = 86400
}

variable "analyst_verdict_quota" {
  type        = number
  description = "Verdicts one analyst may give in 24 hours; past it the API answers 429."
  default     = 200
}

variable "analyst_terminal_label_budget" {
  type        = number
  description = "Labels one analyst alone may put on one terminal in 30 days; past it a label needs a second analyst."
  default     = 3
}

variable "alert_history_cap" {
  type        = number
  description = "Verdicts an alert's own history holds; past it the API answers 422."
  default     = 20
}

variable "release_schedule" {
  type        = string
  description = "How often held labels whose hold passed are released."
  default     = "rate(5 minutes)"
}

variable "analyst_fraud_label_alarm_threshold" {
  type        = number
  description = "Fraud labels in an hour from one analyst, or on one terminal, above which an alarm fires."
  default     = 20
}

variable "alarm_actions" {
  type        = list(string)
  description = "SNS topics the label alarms notify."
  default     = []
}

variable "changes_table_name" {
  type        = string
  description = "DynamoDB table of analysts' change requests on rules and lists (lambdas/api/changes.py)."
}

variable "analyst_change_quota" {
  type        = number
  description = "Change requests on rules and lists one analyst may make in 24 hours; past it the API answers 429."
  default     = 50
}

variable "rules_bucket_name" {
  type        = string
  description = "Bucket of the rule registry the job polls (the artifacts bucket)."
}

variable "rules_bucket_arn" {
  type        = string
  description = "ARN of the rule registry's bucket; the API may read and write only under rules_prefix."
}

variable "rules_prefix" {
  type        = string
  description = "Key prefix of the rule registry root in rules_bucket_name (the job's rules.path), ending in /."
}

variable "archive_bucket_name" {
  type        = string
  description = "Bucket of the decision log and the labels archive (modules/archive), which backtests read."
}

variable "archive_bucket_arn" {
  type        = string
  description = "ARN of that bucket: the API may read its decisions/ and labels/ prefixes only."
}

variable "glue_database_name" {
  type        = string
  description = "Glue database holding the `decisions` and `labels` tables backtests query."
}

variable "athena_workgroup_name" {
  type        = string
  description = "Athena workgroup backtests run in (its result location and scan cutoff apply)."
}

variable "athena_results_bucket_arn" {
  type        = string
  description = "ARN of the workgroup's results bucket."
}

variable "athena_timeout_seconds" {
  type        = number
  default     = 25
  description = "A backtest's Athena query is stopped after this long (API Gateway waits 30 s)."

  validation {
    condition     = var.athena_timeout_seconds >= 1 && var.athena_timeout_seconds <= 28
    error_message = "athena_timeout_seconds is 1 to 28: the HTTP API answers 503 after 30 s."
  }
}

variable "backtest_label_delay_days" {
  type        = number
  default     = 7
  description = "A decision's label counts in a backtest once its event time is this many days old."

  validation {
    condition     = var.backtest_label_delay_days >= 0
    error_message = "backtest_label_delay_days is 0 or more."
  }
}
