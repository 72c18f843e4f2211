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

variable "delivery" {
  description = "How notifications reach the function: direct (S3 invokes it) or sqs (through an encrypted queue with a dead-letter queue, read with partial batch failures)."
  type        = string
  default     = "direct"

  validation {
    condition     = contains(["direct", "sqs"], var.delivery)
    error_message = "delivery must be direct or sqs."
  }
}

variable "sqs_batch_size" {
  description = "With delivery = sqs: notifications per invocation."
  type        = number
  default     = 10
}

variable "sqs_batching_window_seconds" {
  description = "With delivery = sqs: how long Lambda gathers notifications before an invocation."
  type        = number
  default     = 0
}

variable "key_prefix" {
  description = "Raw-crash key prefix: the notification's filter_prefix and the function's PIGEON_KEY_PREFIX, one value."
  type        = string
  default     = "v2/raw_crash/"
}

variable "event_names" {
  description = "S3 event types: the notification's events and the function's PIGEON_EVENT_NAMES, one value."
  type        = list(string)
  default     = ["s3:ObjectCreated:Put"]
}

variable "metrics_sink" {
  description = "PIGEON_METRICS: dogstatsd (the function module adds the Datadog extension; needs datadog_api_key_secret_arn), log or none."
  type        = string
  default     = "log"
}

variable "datadog_api_key_secret_arn" {
  description = "With dogstatsd: the Secrets Manager secret holding the Datadog API key."
  type        = string
  default     = null
}

variable "datadog_api_key_secret_kms_key_arn" {
  description = "The KMS key of the Datadog API key secret, when it is not the AWS-managed one."
  type        = string
  default     = null
}

variable "datadog_site" {
  description = "DD_SITE for the Datadog extension."
  type        = string
  default     = "datadoghq.com"
}

variable "datadog_extension_version" {
  description = "Version of the Datadog Lambda Extension layer."
  type        = number
  default     = 105
}

variable "artifact_version" {
  description = "The deployed artifact's version (DD_VERSION)."
  type        = string
  default     = "unknown"
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
  description = "More layer ARNs for the function (the Datadog extension is added with dogstatsd)."
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
