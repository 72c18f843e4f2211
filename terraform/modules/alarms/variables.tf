variable "function_name" {
  description = "Name of the Lambda function to watch."
  type        = string
}

variable "function_timeout" {
  description = "The function timeout in seconds (the function module's timeout), for the duration alarm."
  type        = number
}

variable "failure_queue_name" {
  description = "Name of the function's on-failure SQS queue (the function module's failure_queue_name)."
  type        = string
}

variable "alarm_actions" {
  description = "ARNs (SNS topics) told when an alarm fires, and when it recovers."
  type        = list(string)
  default     = []
}

variable "name_prefix" {
  description = "Prefix of the alarm names; defaults to the function name."
  type        = string
  default     = null
}

variable "period_seconds" {
  description = "Period of every alarm's metric, in seconds."
  type        = number
  default     = 300

  validation {
    condition     = contains([60, 300, 900, 3600], var.period_seconds)
    error_message = "period_seconds must be 60, 300, 900 or 3600."
  }
}

variable "errors_threshold" {
  description = "Function errors in a period that fire the errors alarm."
  type        = number
  default     = 1
}

variable "throttles_threshold" {
  description = "Throttled invocations in a period that fire the throttles alarm (reserved concurrency reached)."
  type        = number
  default     = 1
}

variable "duration_ratio" {
  description = "The p99 duration alarm fires above this fraction of the timeout."
  type        = number
  default     = 0.8

  validation {
    condition     = var.duration_ratio > 0 && var.duration_ratio < 1
    error_message = "duration_ratio must be between 0 and 1."
  }
}

variable "async_event_age_threshold_seconds" {
  description = "AsyncEventAge (time from queueing to invocation, retries included) that fires its alarm."
  type        = number
  default     = 600
}

variable "failure_queue_threshold" {
  description = "Messages visible on the on-failure queue that fire its alarm: any means a crash id waits for a human."
  type        = number
  default     = 0
}

variable "tags" {
  description = "Tags for every alarm (on top of the provider's default tags)."
  type        = map(string)
  default     = {}
  nullable    = false
}
