variable "name" {
  type        = string
  description = "Name of the Managed Flink application (also its role and log group)."
}

variable "code_zip" {
  type        = string
  description = "Local path of the application zip built by `make package`."
}

variable "code_key" {
  type        = string
  description = "S3 key the application zip is uploaded to in the artifacts bucket."
  default     = "flink/fraud-stream-flink.zip"
}

variable "run_options" {
  type = object({
    python  = string
    jarfile = string
    pyFiles = string
  })
  description = "kinesis.analytics.flink.run.options: entry script, connector uber-jar and Python dependency folder inside the zip (infra/package.py RUN_OPTIONS)."
  default = {
    python  = "main.py"
    jarfile = "lib/fraud-stream-connectors.jar"
    pyFiles = "python_deps/"
  }
}

variable "artifacts_bucket_name" {
  type        = string
  description = "Bucket holding the application zip and the model registry."
}

variable "artifacts_bucket_arn" {
  type        = string
  description = "ARN of the artifacts bucket."
}

variable "model_prefix" {
  type        = string
  description = "Key prefix (ending in /) of the model registry root the job serves from: versions/<version>/ and current.json (model_export/registry.py)."
  default     = "models/"

  validation {
    condition     = endswith(var.model_prefix, "/")
    error_message = "model_prefix must end with /."
  }
}

variable "model_poll_interval_ms" {
  type        = number
  description = "How often the job checks the registry's current.json for a newly promoted model, in milliseconds."
  default     = 30000
}

variable "rules_prefix" {
  type        = string
  description = "Key prefix (ending in /) of the rule registry root the job applies rules from: rulesets/ and lists/<name>/, each with versions/ and current.json (model_export/rules_registry.py)."
  default     = "rules/"

  validation {
    condition     = endswith(var.rules_prefix, "/")
    error_message = "rules_prefix must end with /."
  }
}

variable "rules_poll_interval_ms" {
  type        = number
  description = "How often the job checks the rule set's and lists' current.json for a new version, in milliseconds."
  default     = 5000
}

variable "transactions_stream_name" {
  type        = string
  description = "Name of the Kinesis stream the job reads Transaction v1 events from."
}

variable "transactions_stream_arn" {
  type        = string
  description = "ARN of the transactions stream."
}

variable "alerts_stream_name" {
  type        = string
  description = "Name of the Kinesis stream the job writes Alert v1 records to."
}

variable "alerts_stream_arn" {
  type        = string
  description = "ARN of the alerts stream."
}

variable "deadletter_stream_name" {
  type        = string
  description = "Name of the Kinesis stream the job writes rejected events to."
}

variable "deadletter_stream_arn" {
  type        = string
  description = "ARN of the dead-letter stream."
}

variable "decisions_stream_name" {
  type        = string
  description = "Kinesis stream the job writes every Decision v1 record to (the decision log)."
}

variable "decisions_stream_arn" {
  type        = string
  description = "ARN of the decisions stream (write access)."
}

variable "decisions_sample_rate" {
  type        = number
  description = "Share of non-alert decisions written to the decision log, in (0, 1]; alerts are always written."
  default     = 1.0

  validation {
    condition     = var.decisions_sample_rate > 0 && var.decisions_sample_rate <= 1
    error_message = "decisions_sample_rate must be in (0, 1]."
  }
}

variable "source_initial_position" {
  type        = string
  description = "Where a job without state starts reading: LATEST or TRIM_HORIZON."
  default     = "LATEST"

  validation {
    condition     = contains(["LATEST", "TRIM_HORIZON"], var.source_initial_position)
    error_message = "source_initial_position must be LATEST or TRIM_HORIZON."
  }
}

variable "source_poll_interval_ms" {
  type        = number
  description = "Kinesis GetRecords interval per shard, in milliseconds (5 reads/s/shard is Kinesis' limit)."
  default     = 250
}

variable "enhanced_fan_out" {
  type        = bool
  description = "Read the transactions stream with an enhanced fan-out consumer (pushed, ~70 ms) instead of polling GetRecords every source_poll_interval_ms (~200 ms at Kinesis' limit); billed per consumer-shard hour and per GB (docs/benchmarks.md, sizing)."
  default     = false
}

variable "sink_max_buffer_ms" {
  type        = number
  description = "Longest time the Kinesis sinks buffer a record, in milliseconds."
  default     = 50
}

variable "labels_stream_name" {
  type        = string
  description = "Kinesis stream the job reads Label v1 records from (terminal fraud risk)."
  default     = "labels"
}

variable "labels_stream_arn" {
  type        = string
  description = "ARN of the labels stream (read by the job)."
}

variable "labels_delay_ms" {
  type        = number
  description = "Terminal fraud risk at t uses labels of transactions before t minus this, in ms."
  default     = 604800000
}

variable "watermark_max_out_of_orderness_ms" {
  type        = number
  description = "Event-time lateness bound, in milliseconds (later transactions are scored alone, flagged late)."
  default     = 300000
}

variable "scoring_batch_size" {
  type        = number
  description = "Rows per Arrow batch handed to the ONNX scorer."
  default     = 10000
}

variable "scoring_bundle_time_ms" {
  type        = number
  description = "Longest time a Python bundle waits to fill, in milliseconds."
  default     = 20
}

variable "parallelism" {
  type        = number
  description = "Initial parallelism of the application."
  default     = 1
}

variable "parallelism_per_kpu" {
  type        = number
  description = "Parallel tasks per KPU (1 KPU = 1 vCPU + 4 GB)."
  default     = 1
}

variable "auto_scaling_enabled" {
  type        = bool
  description = "Let Managed Flink scale parallelism with CPU load."
  default     = true
}

variable "checkpoint_interval_ms" {
  type        = number
  description = "Checkpoint interval in milliseconds."
  default     = 60000
}

variable "min_pause_between_checkpoints_ms" {
  type        = number
  description = "Minimum pause between two checkpoints in milliseconds."
  default     = 5000
}

variable "snapshots_enabled" {
  type        = bool
  description = "Take a snapshot when the application stops or is updated, and restore from it."
  default     = true
}

variable "log_level" {
  type        = string
  description = "Application log level in CloudWatch: INFO, WARN, ERROR or DEBUG."
  default     = "INFO"
}

variable "metrics_level" {
  type        = string
  description = "CloudWatch metrics level: APPLICATION, TASK, OPERATOR or PARALLELISM."
  default     = "APPLICATION"
}

variable "start_application" {
  type        = bool
  description = "Run the application (true) or keep it created but stopped (false)."
  default     = false
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key of the streams, the artifacts bucket and the log group."
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the application's log group, in days."
  default     = 365
}

variable "tags" {
  type        = map(string)
  description = "Tags added to the module's resources."
  default     = {}
}

variable "transactions_max_future_ms" {
  type        = number
  description = "A transaction whose event_time is later than its Kinesis arrival plus this (ms) is dead-lettered: no record may move event time ahead for others."
  default     = 60000
  validation {
    condition     = var.transactions_max_future_ms >= 0
    error_message = "transactions_max_future_ms must be >= 0."
  }
}

variable "transactions_max_age_ms" {
  type        = number
  description = "A transaction whose event_time is earlier than its Kinesis arrival minus this (ms) is dead-lettered."
  default     = 604800000
  validation {
    condition     = var.transactions_max_age_ms > 0
    error_message = "transactions_max_age_ms must be > 0."
  }
}

variable "transactions_max_amount" {
  type        = number
  description = "Largest transaction amount accepted; larger amounts are dead-lettered."
  default     = 1000000
  validation {
    condition     = var.transactions_max_amount > 0
    error_message = "transactions_max_amount must be > 0."
  }
}

variable "labels_max_future_ms" {
  type        = number
  description = "A label whose reported_at is later than its Kinesis arrival plus this (ms) is ignored."
  default     = 60000
  validation {
    condition     = var.labels_max_future_ms >= 0
    error_message = "labels_max_future_ms must be >= 0."
  }
}

variable "outputs_since_ms" {
  type        = number
  description = "Transactions that arrived on Kinesis before this instant (epoch ms) update the job's state but alert no one (their decisions are logged again under the same decision_id): after a bootstrap, the moment the application it replaces stopped (docs/deployment.md). 0: every transaction alerts."
  default     = 0
  validation {
    condition     = var.outputs_since_ms >= 0
    error_message = "outputs_since_ms must be >= 0."
  }
}
