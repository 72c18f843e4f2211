variable "name" {
  description = "Name prefix of the queues and alarms (the function's name)."
  type        = string
}

variable "bucket_name" {
  description = "The crash-report bucket whose notifications the queue takes."
  type        = string
}

variable "bucket_account_id" {
  description = "The account that owns the bucket: the queue takes notifications of that bucket in that account only."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.bucket_account_id))
    error_message = "bucket_account_id must be a 12-digit AWS account id."
  }
}

variable "function_name" {
  description = "The function that reads the queue."
  type        = string
}

variable "function_timeout" {
  description = "The function timeout in seconds: the queue's visibility timeout is six times it, as AWS recommends."
  type        = number
}

variable "batch_size" {
  description = "Notifications per invocation (1-10000; above 10 needs batching_window_seconds > 0)."
  type        = number
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "batch_size must be from 1 to 10000."
  }
}

variable "batching_window_seconds" {
  description = "How long Lambda gathers notifications before an invocation (0-300 s)."
  type        = number
  default     = 0

  validation {
    condition     = var.batching_window_seconds >= 0 && var.batching_window_seconds <= 300
    error_message = "batching_window_seconds must be from 0 to 300."
  }
}

variable "maximum_concurrency" {
  description = "The most concurrent invocations the queue drives (2-1000): with reserved concurrency, the bound on broker connections."
  type        = number
  default     = 5

  validation {
    condition     = var.maximum_concurrency >= 2 && var.maximum_concurrency <= 1000
    error_message = "maximum_concurrency must be from 2 to 1000."
  }
}

variable "max_receive_count" {
  description = "Deliveries of a notification before it goes to the dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.max_receive_count >= 1
    error_message = "max_receive_count must be at least 1."
  }
}

variable "oldest_message_alarm_seconds" {
  description = "Alarm when the oldest notification in the queue is older than this."
  type        = number
  default     = 900
}

variable "alarm_actions" {
  description = "ARNs (SNS topics) told when an alarm fires, and when it recovers."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
