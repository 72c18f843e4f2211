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

variable "function_arn" {
  description = "ARN of the function to invoke (the function module's function_arn)."
  type        = string
}

variable "function_name" {
  description = "Name of the function to invoke (the function module's function_name)."
  type        = string
}

variable "filter_prefix" {
  description = "Only keys under this prefix invoke the function: the raw crashes."
  type        = string
  default     = "v2/raw_crash/"

  validation {
    condition     = length(var.filter_prefix) > 0
    error_message = "filter_prefix must not be empty: every object of the bucket would invoke the function."
  }
}

variable "events" {
  description = "S3 event types that invoke the function."
  type        = list(string)
  default     = ["s3:ObjectCreated:Put"]

  validation {
    condition     = alltrue([for e in var.events : startswith(e, "s3:")])
    error_message = "events must be S3 event types such as s3:ObjectCreated:Put."
  }
}

variable "queue_arn" {
  description = "An SQS queue to send the notifications to instead of the function (the sqs_delivery module's queue_arn); null for direct delivery."
  type        = string
  default     = null
}

variable "queue_policy_id" {
  description = "With queue_arn: the id of the queue policy that lets S3 send to it, so the notification is saved after it."
  type        = string
  default     = null
}
