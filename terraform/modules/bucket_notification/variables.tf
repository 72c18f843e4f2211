variable "bucket_name" {
  description = "Name of the existing crash-report bucket. The module does not own the bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name."
  }
}

variable "bucket_account_id" {
  description = "AWS account that owns the bucket: the permission's source_account, so no other account's bucket of the same name can invoke the function."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.bucket_account_id))
    error_message = "bucket_account_id must be a 12-digit AWS account id."
  }
}

variable "destination" {
  description = "Where Pigeon's entry sends: function (S3 invokes it) or queue (queue_arn, the sqs_delivery module's queue)."
  type        = string
  default     = "function"
  nullable    = false

  validation {
    condition     = contains(["function", "queue"], var.destination)
    error_message = "destination must be function or queue."
  }
}

variable "traffic_enabled" {
  description = "With destination = function: whether Pigeon's entry is written. False until the function can deliver (the broker secret has a value): S3 then invokes nothing. With destination = queue the entry is always written and the queue keeps the notifications."
  type        = bool
  nullable    = false
}

variable "entry_id" {
  description = "Id of Pigeon's entry in the bucket's notification configuration."
  type        = string
  default     = "pigeon-raw-crash"
  nullable    = false
}

variable "function_arn" {
  description = "ARN the notification invokes (the function module's target_arn: the SnapStart alias's, qualified, or the function's)."
  type        = string
}

variable "function_qualifier" {
  description = "The alias the notification invokes (the function module's qualifier), or null for the unqualified function: S3's invoke permission is for exactly that ARN."
  type        = string
  default     = null
}

variable "function_name" {
  description = "Name of the function to invoke (the function module's function_name)."
  type        = string
}

variable "filter_prefix" {
  description = "Only keys under this prefix invoke the function: the raw crashes."
  type        = string
  default     = "v2/raw_crash/"
  nullable    = false

  validation {
    condition     = length(var.filter_prefix) > 0
    error_message = "filter_prefix must not be empty: every object of the bucket would invoke the function."
  }
}

variable "events" {
  description = "S3 event types that invoke the function."
  type        = list(string)
  default     = ["s3:ObjectCreated:Put"]
  nullable    = false

  validation {
    condition     = alltrue([for e in var.events : startswith(e, "s3:")])
    error_message = "events must be S3 event types such as s3:ObjectCreated:Put."
  }
}

variable "queue_arn" {
  description = "With destination = queue: the SQS queue Pigeon's entry sends to (the sqs_delivery module's queue_arn)."
  type        = string
  default     = null

  validation {
    condition     = var.destination != "queue" || var.queue_arn != null
    error_message = "destination = \"queue\" needs queue_arn (the sqs_delivery module's queue_arn)."
  }
}

variable "queue_policy_id" {
  description = "With destination = queue: the id of the queue policy that lets S3 send to it, so the notification is saved after it."
  type        = string
  default     = null
}

# The bucket's other entries, taken over: the resource replaces the whole configuration, so
# each entry the bucket has that is not Pigeon's must be listed here to be kept. Copy them from
# `aws s3api get-bucket-notification-configuration --bucket BUCKET` (docs/deploy.md).
variable "lambda_notifications" {
  description = "The bucket's other Lambda entries, by their Id (LambdaFunctionConfigurations), written back unchanged. Their functions' permissions stay their owners'."
  type = map(object({
    function_arn  = string
    events        = list(string)
    filter_prefix = optional(string, "")
    filter_suffix = optional(string, "")
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for n in values(var.lambda_notifications) : length(n.events) > 0 && alltrue([for e in n.events : startswith(e, "s3:")])])
    error_message = "lambda_notifications: each entry needs events, S3 event types such as s3:ObjectCreated:*."
  }
}

variable "sqs_notifications" {
  description = "The bucket's other SQS entries, by their Id (QueueConfigurations), written back unchanged."
  type = map(object({
    queue_arn     = string
    events        = list(string)
    filter_prefix = optional(string, "")
    filter_suffix = optional(string, "")
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for n in values(var.sqs_notifications) : length(n.events) > 0 && alltrue([for e in n.events : startswith(e, "s3:")])])
    error_message = "sqs_notifications: each entry needs events, S3 event types such as s3:ObjectCreated:*."
  }
}

variable "sns_notifications" {
  description = "The bucket's SNS entries, by their Id (TopicConfigurations), written back unchanged."
  type = map(object({
    topic_arn     = string
    events        = list(string)
    filter_prefix = optional(string, "")
    filter_suffix = optional(string, "")
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for n in values(var.sns_notifications) : length(n.events) > 0 && alltrue([for e in n.events : startswith(e, "s3:")])])
    error_message = "sns_notifications: each entry needs events, S3 event types such as s3:ObjectCreated:*."
  }

  validation {
    condition     = length(distinct(concat(keys(var.lambda_notifications), keys(var.sqs_notifications), keys(var.sns_notifications), [var.entry_id]))) == length(var.lambda_notifications) + length(var.sqs_notifications) + length(var.sns_notifications) + 1
    error_message = "Each entry of the bucket's configuration needs its own Id: an Id is used twice across lambda_notifications, sqs_notifications and sns_notifications, or is Pigeon's own (${var.entry_id})."
  }
}

variable "eventbridge" {
  description = "The bucket's EventBridge delivery (EventBridgeConfiguration). The resource sets it either way: true when the bucket has it on today, or it is turned off."
  type        = bool
  default     = false
  nullable    = false
}
