variable "env" {
  description = "Environment name: stage or prod. Tags metrics (PIGEON_ENV, DD_ENV) and names resources (pigeon-<env>)."
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

variable "delivery" {
  description = "How notifications reach the function: direct (S3 invokes it) or sqs (through an encrypted queue with a dead-letter queue, read with partial batch failures)."
  type        = string
  default     = "direct"
  nullable    = false

  validation {
    condition     = contains(["direct", "sqs"], var.delivery)
    error_message = "delivery must be direct or sqs."
  }
}

variable "traffic_enabled" {
  description = "The traffic gate: false until the broker secret has a current value (scripts/deploy.sh decides). False: no Pigeon entry in the bucket's notification (direct), or the SQS event source mapping does not poll (sqs; the queue keeps the notifications)."
  type        = bool
  nullable    = false
}

variable "zip_path" {
  description = "Path of pigeon.zip, relative to the root module."
  type        = string
}

variable "zip_sha256_path" {
  description = "Path of pigeon.zip.sha256, relative to the root module."
  type        = string
}

variable "artifact_version" {
  description = "The deployed artifact's version (DD_VERSION)."
  type        = string
  default     = "unknown"
  nullable    = false
}

variable "key_prefix" {
  description = "Raw-crash key prefix: the notification's filter_prefix and the function's PIGEON_KEY_PREFIX, one value."
  type        = string
  default     = "v2/raw_crash/"
  nullable    = false
}

variable "event_names" {
  description = "S3 event types: the notification's events and the function's PIGEON_EVENT_NAMES, one value."
  type        = list(string)
  default     = ["s3:ObjectCreated:Put"]
  nullable    = false
}

variable "function" {
  description = "Settings of the function module, by its variable names: see modules/function/README.md for each one's meaning, default and rules. One left out (or null) takes that module's default."
  type = object({
    queues                             = string
    architecture                       = optional(string)
    memory_size                        = optional(number)
    timeout                            = optional(number)
    reserved_concurrent_executions     = optional(number)
    metrics_sink                       = optional(string)
    log_level                          = optional(string)
    datadog_api_key_secret_arn         = optional(string)
    datadog_api_key_secret_kms_key_arn = optional(string)
    datadog_forwarder_arn              = optional(string)
    datadog_site                       = optional(string)
    datadog_extension_version          = optional(number)
    environment_variables              = optional(map(string))
    layers                             = optional(list(string))
    vpc_subnet_ids                     = optional(list(string))
    vpc_security_group_ids             = optional(list(string))
    create_security_group              = optional(bool)
    broker_port                        = optional(number)
    broker_cidr_blocks                 = optional(list(string))
    vpc_egress                         = optional(string)
    cloudwatch_logs_retention_in_days  = optional(number)
    maximum_retry_attempts             = optional(number)
    maximum_event_age_in_seconds       = optional(number)
    failure_queue_retention_seconds    = optional(number)
    snap_start                         = optional(object({ apply_on = string }))
  })
}

variable "sqs" {
  description = "With delivery = sqs: settings of the sqs_delivery module, by its variable names (modules/sqs_delivery/README.md). One left out (or null) takes that module's default."
  type = object({
    batch_size                         = optional(number)
    maximum_batching_window_in_seconds = optional(number)
    visibility_timeout_seconds         = optional(number)
    max_receive_count                  = optional(number)
    oldest_message_alarm_seconds       = optional(number)
  })
  default  = {}
  nullable = false
}

variable "broker" {
  description = "What the broker can hold, for the plan's check that the function's concurrency fits it (docs/deploy.md, sizing): connection_limit (a number), or instance_type (an Amazon MQ for RabbitMQ instance type such as mq.m5.large, looked up in the table of AWS's sizing guidelines); other_connections, the connections of the broker's other clients (the processor, …); connections_per_environment, Pigeon's connections per execution environment (1). With neither limit nor type, nothing is checked."
  type = object({
    connection_limit            = optional(number)
    instance_type               = optional(string)
    other_connections           = optional(number, 0)
    connections_per_environment = optional(number, 1)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.broker.connection_limit == null || var.broker.instance_type == null
    error_message = "broker: give connection_limit or instance_type, not both (the type's limit is looked up)."
  }

  validation {
    condition     = var.broker.connection_limit == null ? true : var.broker.connection_limit >= 1 && floor(var.broker.connection_limit) == var.broker.connection_limit
    error_message = "broker.connection_limit must be a whole number of connections, at least 1."
  }

  validation {
    condition     = var.broker.other_connections == null ? true : var.broker.other_connections >= 0 && floor(var.broker.other_connections) == var.broker.other_connections
    error_message = "broker.other_connections must be a whole number, 0 or more."
  }

  validation {
    condition     = var.broker.connections_per_environment == null ? true : var.broker.connections_per_environment >= 1 && floor(var.broker.connections_per_environment) == var.broker.connections_per_environment
    error_message = "broker.connections_per_environment must be a whole number, at least 1 (Pigeon opens one)."
  }
}

variable "bucket_notifications" {
  description = "The bucket's entries that are not Pigeon's, and its EventBridge setting, by the bucket_notification module's variable names (modules/bucket_notification/README.md): the notification resource owns the bucket's WHOLE configuration, so what is not listed here is deleted. Required, with no default: a caller says what the bucket has (`{}` for nothing else), never loses it by leaving this out."
  type = object({
    lambda_notifications = optional(map(object({
      function_arn  = string
      events        = list(string)
      filter_prefix = optional(string)
      filter_suffix = optional(string)
    })), {})
    sqs_notifications = optional(map(object({
      queue_arn     = string
      events        = list(string)
      filter_prefix = optional(string)
      filter_suffix = optional(string)
    })), {})
    sns_notifications = optional(map(object({
      topic_arn     = string
      events        = list(string)
      filter_prefix = optional(string)
      filter_suffix = optional(string)
    })), {})
    eventbridge = optional(bool, false)
  })
  nullable = false
}

variable "alarm_actions" {
  description = "SNS topic ARNs the CloudWatch alarms notify; empty for none."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "datadog_enabled" {
  description = "Create the Datadog dashboard and monitors (needs the Datadog provider's keys). Pigeon's metrics must then reach Datadog: function.metrics_sink = dogstatsd (the extension), or log with function.datadog_forwarder_arn."
  type        = bool
  default     = false
  nullable    = false

  validation {
    condition = !var.datadog_enabled || (
      coalesce(var.function.metrics_sink, "log") == "dogstatsd" ||
      (coalesce(var.function.metrics_sink, "log") == "log" && var.function.datadog_forwarder_arn != null)
    )
    error_message = "datadog_enabled makes monitors on Pigeon's metrics, and nothing sends them to Datadog: set function.metrics_sink = \"dogstatsd\" (the Datadog extension, with datadog_api_key_secret_arn), or keep metrics_sink = \"log\" and give function.datadog_forwarder_arn (the Datadog Forwarder reads the log group). Or datadog_enabled = false."
  }
}

variable "datadog_notify" {
  description = "Datadog @-handles the monitors notify."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "silence_window_minutes" {
  description = "The silence alarm (CloudWatch) and monitor (Datadog) fire when nothing invokes the function for this long: the longest quiet the bucket has on a normal day (the alarms module's silence_window_minutes)."
  type        = number
  default     = 60
  nullable    = false
}

variable "secret_recovery_window_in_days" {
  description = "Days a deleted broker secret can be restored."
  type        = number
  default     = 30
  nullable    = false
}
