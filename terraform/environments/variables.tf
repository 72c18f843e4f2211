variable "env" {
  description = "The environment: stage or prod (set by <env>.tfvars)."
  type        = string

  validation {
    condition     = contains(["stage", "prod"], var.env)
    error_message = "env must be stage or prod: plan with -var-file=stage.tfvars or prod.tfvars."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrency: the most broker connections the function opens at once."
  type        = number
}

variable "log_retention_days" {
  description = "Retention of the function's logs, in days."
  type        = number
}

variable "log_level" {
  description = "PIGEON_LOG_LEVEL."
  type        = string
}

variable "secret_recovery_window_in_days" {
  description = "Days a deleted broker secret can be restored."
  type        = number
}

variable "delivery" {
  description = "How notifications reach the function: direct, or sqs (docs/operations.md, switching)."
  type        = string
  default     = "direct"
}

variable "region" {
  description = "AWS region of the crash-report bucket and the function."
  type        = string
  default     = "us-west-2"
}

variable "bucket_name" {
  description = "The existing crash-report bucket of this environment."
  type        = string
}

variable "queues" {
  description = "PIGEON_QUEUES for this environment."
  type        = string
  default     = "socorro.normal"
}

variable "artifact_dir" {
  description = "Directory holding pigeon.zip and pigeon.zip.sha256 (the CI artifact, or dist/)."
  type        = string
  default     = "../../dist"
}

variable "alarm_actions" {
  description = "SNS topic ARNs for CloudWatch alarms: prod alarms page someone, so at least one there."
  type        = list(string)
  default     = []

  validation {
    condition     = var.env != "prod" || length(var.alarm_actions) > 0
    error_message = "prod alarms must notify someone: give the paging SNS topic ARN in alarm_actions."
  }
}

variable "metrics_sink" {
  description = "PIGEON_METRICS: dogstatsd (the Datadog extension, added by the module), else log."
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

variable "layers" {
  description = "More layer ARNs (the Datadog extension is added by the module with dogstatsd)."
  type        = list(string)
  default     = []
}

variable "extra_environment" {
  description = "More environment variables for the function, e.g. PIGEON_PUBLISH_TIMEOUT."
  type        = map(string)
  default     = {}
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

variable "datadog_enabled" {
  description = "Create the Datadog dashboard and monitors."
  type        = bool
  default     = true
}

variable "datadog_notify" {
  description = "Datadog @-handles the monitors notify (prod: the pager)."
  type        = list(string)
  default     = []
}

variable "datadog_api_key" {
  description = "Datadog API key; empty to use DD_API_KEY."
  type        = string
  default     = null
  sensitive   = true
}

variable "datadog_app_key" {
  description = "Datadog application key; empty to use DD_APP_KEY."
  type        = string
  default     = null
  sensitive   = true
}

variable "datadog_api_url" {
  description = "Datadog API URL of your site."
  type        = string
  default     = "https://api.datadoghq.com/"
}
