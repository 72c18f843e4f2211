variable "env" {
  description = "Environment name: stage or prod. Tags metrics (PIGEON_ENV) and names resources."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.env))
    error_message = "env must be 2-16 lowercase letters, digits or -."
  }
}

variable "bucket_name" {
  description = "The existing crash-report bucket whose raw crashes invoke Pigeon."
  type        = string
}

variable "queues" {
  description = "PIGEON_QUEUES: comma list of [PERCENT:]QUEUE."
  type        = string
}

variable "zip_path" {
  description = "Path of dist/pigeon.zip."
  type        = string
}

variable "zip_sha256_path" {
  description = "Path of dist/pigeon.zip.sha256."
  type        = string
}

variable "architecture" {
  description = "x86_64 or arm64, as built."
  type        = string
  default     = "x86_64"
}

variable "memory_size" {
  description = "Function memory in MB."
  type        = number
  default     = 256
}

variable "timeout" {
  description = "Function timeout in seconds."
  type        = number
  default     = 30
}

variable "reserved_concurrency" {
  description = "Reserved concurrency: the most broker connections at once."
  type        = number
  default     = 10
}

variable "metrics_sink" {
  description = "PIGEON_METRICS: dogstatsd (needs the Datadog extension in layers), log or none."
  type        = string
  default     = "log"
}

variable "log_level" {
  description = "PIGEON_LOG_LEVEL."
  type        = string
  default     = "INFO"
}

variable "extra_environment" {
  description = "More environment variables for the function."
  type        = map(string)
  default     = {}
}

variable "layers" {
  description = "Layer ARNs for the function, e.g. the Datadog Lambda Extension."
  type        = list(string)
  default     = []
}

variable "subnet_ids" {
  description = "Subnets for a private broker; empty for none."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  description = "Security groups with subnet_ids."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Retention of the function's logs, in days."
  type        = number
  default     = 30
}

variable "maximum_retry_attempts" {
  description = "Lambda's async retries (0-2)."
  type        = number
  default     = 2
}

variable "maximum_event_age_seconds" {
  description = "How long Lambda retries an event before the on-failure queue."
  type        = number
  default     = 21600
}

variable "alarm_actions" {
  description = "SNS topic ARNs the CloudWatch alarms notify; empty for none."
  type        = list(string)
  default     = []
}

variable "datadog_enabled" {
  description = "Create the Datadog dashboard and monitors."
  type        = bool
  default     = true
}

variable "datadog_notify" {
  description = "Datadog @-handles the monitors notify."
  type        = list(string)
  default     = []
}

variable "secret_recovery_window_in_days" {
  description = "Days a deleted broker secret can be restored."
  type        = number
  default     = 30
}
