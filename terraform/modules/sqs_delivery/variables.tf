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
  description = "The function that reads the queue: its name, or the ARN events invoke (the function module's target_arn, the SnapStart alias's with SnapStart)."
  type        = string
}

variable "function_timeout" {
  description = "The function timeout in seconds (the function module's timeout): the queue's visibility timeout covers six times it plus the batching window, as AWS asks."
  type        = number
}

variable "traffic_enabled" {
  description = "Whether the event source mapping polls the queue. False (until the broker secret has a value): the queue keeps the notifications and the function gets none."
  type        = bool
  nullable    = false
}

variable "batch_size" {
  description = "Notifications per invocation (1-10000; above 10 needs maximum_batching_window_in_seconds of at least 1)."
  type        = number
  default     = 10
  nullable    = false

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000 && floor(var.batch_size) == var.batch_size
    error_message = "batch_size must be a whole number from 1 to 10000."
  }

  validation {
    condition     = var.batch_size <= 10 || var.maximum_batching_window_in_seconds >= 1
    error_message = "Lambda refuses a batch_size above 10 (here ${var.batch_size}) without a batching window: set maximum_batching_window_in_seconds to at least 1, or batch_size to 10 or less."
  }
}

variable "maximum_batching_window_in_seconds" {
  description = "How long Lambda gathers notifications before an invocation (0-300 s)."
  type        = number
  default     = 0
  nullable    = false

  validation {
    condition     = var.maximum_batching_window_in_seconds >= 0 && var.maximum_batching_window_in_seconds <= 300 && floor(var.maximum_batching_window_in_seconds) == var.maximum_batching_window_in_seconds
    error_message = "maximum_batching_window_in_seconds must be a whole number from 0 to 300."
  }
}

variable "visibility_timeout_seconds" {
  description = "The delivery queue's visibility timeout; null: six times the function timeout plus the batching window (at least 30 s), the least AWS advises."
  type        = number
  default     = null

  validation {
    condition     = var.visibility_timeout_seconds == null || try(var.visibility_timeout_seconds >= 6 * var.function_timeout + var.maximum_batching_window_in_seconds, true)
    error_message = "visibility_timeout_seconds must cover 6 x the function timeout plus the batching window (${try(6 * var.function_timeout + var.maximum_batching_window_in_seconds, "?")} s), else a batch still in work is delivered again: raise it, or set it to null for that least value."
  }

  validation {
    condition     = var.visibility_timeout_seconds == null || try(var.visibility_timeout_seconds <= 43200, true)
    error_message = "visibility_timeout_seconds must be at most 43200 (12 hours, SQS's most)."
  }
}

variable "maximum_concurrency" {
  description = "The most concurrent invocations the queue drives (2-1000), or null for no bound of the mapping's own: the pigeon module passes the function's reserved concurrency, the bound on broker connections."
  type        = number
  default     = null

  validation {
    condition     = var.maximum_concurrency == null ? true : var.maximum_concurrency >= 2 && var.maximum_concurrency <= 1000 && floor(var.maximum_concurrency) == var.maximum_concurrency
    error_message = "maximum_concurrency must be a whole number from 2 to 1000 (Lambda's bounds for an SQS event source); with the pigeon module it is the function's reserved_concurrent_executions: set that to at least 2 for delivery = \"sqs\"."
  }
}

variable "max_receive_count" {
  description = "Deliveries of a notification before it goes to the dead-letter queue (1-1000)."
  type        = number
  default     = 5
  nullable    = false

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count must be a whole number from 1 to 1000 (SQS's bounds for maxReceiveCount)."
  }
}

variable "oldest_message_alarm_seconds" {
  description = "Alarm when the oldest notification in the queue is older than this."
  type        = number
  default     = 900
  nullable    = false

  validation {
    condition     = var.oldest_message_alarm_seconds >= 60
    error_message = "oldest_message_alarm_seconds must be at least 60."
  }
}

variable "alarm_actions" {
  description = "ARNs (SNS topics) told when an alarm fires, and when it recovers."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
  nullable    = false
}
