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

variable "log_group_name" {
  description = "The function's log group (the function module's log_group_name): with SQS delivery, a metric filter reads item_failures from its invocation summary lines."
  type        = string
}

variable "delivery" {
  description = "How notifications reach the function, as the pigeon module's delivery: with sqs, the item-failures metric filter and alarm are added."
  type        = string
  default     = "direct"
  nullable    = false

  validation {
    condition     = contains(["direct", "sqs"], var.delivery)
    error_message = "delivery must be direct or sqs."
  }
}

variable "silence_window_minutes" {
  description = "The silence alarm fires when the function is not invoked for this long: the longest quiet the bucket has on a normal day. One of 5, 10, 15, 30, 60, 120, 240 or 1440 (windows both CloudWatch and Datadog monitors take)."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = contains([5, 10, 15, 30, 60, 120, 240, 1440], var.silence_window_minutes)
    error_message = "silence_window_minutes must be 5, 10, 15, 30, 60, 120, 240 or 1440."
  }
}

variable "traffic_enabled" {
  description = "The traffic gate: while it is closed nothing invokes the function by design, and the silence alarm notifies no one."
  type        = bool
  nullable    = false
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

variable "item_failures_threshold" {
  description = "With SQS delivery: SQS messages reported as failed in a period that fire the item-failures alarm."
  type        = number
  default     = 0
  nullable    = false
}

variable "tags" {
  description = "Tags for every alarm (on top of the provider's default tags)."
  type        = map(string)
  default     = {}
  nullable    = false
}
