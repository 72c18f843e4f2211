# Every setting has its value in <env>.tfvars, and none has a default here: a setting missing
# from a file fails the plan, instead of silently taking a value no one chose. The two
# exceptions are not settings: scripts/deploy.sh passes artifact_dir and traffic_enabled.

variable "env" {
  description = "The environment: stage or prod."
  type        = string

  validation {
    condition     = contains(["stage", "prod"], var.env)
    error_message = "env must be stage or prod: plan with -var-file=stage.tfvars or prod.tfvars."
  }
}

variable "region" {
  description = "AWS region of the crash-report bucket and the function."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$", var.region))
    error_message = "region must be an AWS region such as us-west-2."
  }
}

variable "account_id" {
  description = "The AWS account of this environment: the aws provider refuses credentials of any other (allowed_account_ids)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be the environment's 12-digit AWS account id (aws sts get-caller-identity --query Account)."
  }
}

variable "bucket_name" {
  description = "The existing crash-report bucket of this environment."
  type        = string
}

variable "delivery" {
  description = "How notifications reach the function: direct, or sqs (docs/operations.md, switching)."
  type        = string
}

variable "traffic_enabled" {
  description = "The traffic gate, set by scripts/deploy.sh on every plan: true only when the broker secret has a current value. False: nothing sends events to the function. Required, with no default: no plan turns traffic on (or off) by leaving it out."
  type        = bool
  nullable    = false
}

variable "artifact_dir" {
  description = "Directory of the verified pigeon.zip, pigeon.zip.sha256 and pigeon.version.json, relative to this root (scripts/deploy.sh passes .artifact/<env>)."
  type        = string

  validation {
    condition = (
      length(trimspace(var.artifact_dir)) > 0 &&
      !startswith(var.artifact_dir, "/") &&
      !startswith(var.artifact_dir, "~") &&
      !can(regex("^[A-Za-z]:", var.artifact_dir)) &&
      !contains(split("/", replace(var.artifact_dir, "\\", "/")), "..")
    )
    error_message = "artifact_dir must be a path relative to terraform/environments, without .. (scripts/deploy.sh passes .artifact/<env>): the function's filename is kept in state, and an absolute or machine-specific path makes every plan from another checkout show a change and upload the code again."
  }
}

variable "key_prefix" {
  description = "Raw-crash key prefix: the notification's filter_prefix and PIGEON_KEY_PREFIX."
  type        = string
}

variable "event_names" {
  description = "S3 event types: the notification's events and PIGEON_EVENT_NAMES."
  type        = list(string)
}

# The function module's settings, by its variable names: their meaning, defaults and rules are
# in terraform/modules/function/README.md (generated from that module). Every one is required
# here, so each <env>.tfvars says all of them.
variable "function" {
  description = "The function's settings, by the function module's variable names (terraform/modules/function/README.md)."
  type = object({
    queues                             = string
    architecture                       = string
    memory_size                        = number
    timeout                            = number
    reserved_concurrent_executions     = number
    metrics_sink                       = string
    log_level                          = string
    datadog_api_key_secret_arn         = string
    datadog_api_key_secret_kms_key_arn = string
    datadog_forwarder_arn              = string
    datadog_site                       = string
    datadog_extension_version          = number
    environment_variables              = map(string)
    layers                             = list(string)
    vpc_subnet_ids                     = list(string)
    vpc_security_group_ids             = list(string)
    create_security_group              = bool
    broker_port                        = number
    broker_cidr_blocks                 = list(string)
    vpc_egress                         = string
    cloudwatch_logs_retention_in_days  = number
    maximum_retry_attempts             = number
    maximum_event_age_in_seconds       = number
    failure_queue_retention_seconds    = number
    snap_start                         = object({ apply_on = string })
  })
}

variable "sqs" {
  description = "With delivery = sqs: the queue's settings, by the sqs_delivery module's variable names (terraform/modules/sqs_delivery/README.md)."
  type = object({
    batch_size                         = number
    maximum_batching_window_in_seconds = number
    visibility_timeout_seconds         = number
    max_receive_count                  = number
    oldest_message_alarm_seconds       = number
  })
}

variable "broker" {
  description = "What the broker holds, for the plan's check that the function's concurrency fits it, by the pigeon module's names (terraform/modules/pigeon/README.md): connection_limit, or instance_type (Amazon MQ), or both null for no check; other_connections; connections_per_environment."
  type = object({
    connection_limit            = number
    instance_type               = string
    other_connections           = number
    connections_per_environment = number
  })
  nullable = false
}

variable "bucket_notifications" {
  description = "The bucket's entries that are not Pigeon's, and its EventBridge setting, by the bucket_notification module's variable names: written back unchanged, since the notification resource owns the bucket's WHOLE configuration (docs/deploy.md)."
  type = object({
    lambda_notifications = map(object({
      function_arn  = string
      events        = list(string)
      filter_prefix = optional(string)
      filter_suffix = optional(string)
    }))
    sqs_notifications = map(object({
      queue_arn     = string
      events        = list(string)
      filter_prefix = optional(string)
      filter_suffix = optional(string)
    }))
    sns_notifications = map(object({
      topic_arn     = string
      events        = list(string)
      filter_prefix = optional(string)
      filter_suffix = optional(string)
    }))
    eventbridge = bool
  })
  nullable = false
}

variable "alarm_actions" {
  description = "SNS topic ARNs for CloudWatch alarms: prod alarms page someone, so at least one there."
  type        = list(string)

  validation {
    condition     = var.env != "prod" || length(var.alarm_actions) > 0
    error_message = "prod alarms must notify someone: give the paging SNS topic ARN in alarm_actions."
  }

  validation {
    condition     = alltrue([for a in var.alarm_actions : can(regex("^arn:aws[a-z-]*:sns:", a))])
    error_message = "alarm_actions must be SNS topic ARNs."
  }
}

variable "datadog_enabled" {
  description = "Create the Datadog dashboard and monitors: the Datadog provider then needs DD_API_KEY and DD_APP_KEY in the environment (CI's secret store), and the metrics a way there (function.metrics_sink = dogstatsd, or log with function.datadog_forwarder_arn)."
  type        = bool
}

variable "datadog_notify" {
  description = "Datadog @-handles the monitors notify (prod: the pager)."
  type        = list(string)
}

variable "datadog_api_url" {
  description = "Datadog API URL of your site."
  type        = string
}

variable "silence_window_minutes" {
  description = "The silence alarm and monitor fire when nothing invokes the function for this long (5, 10, 15, 30, 60, 120, 240 or 1440): the longest quiet the bucket has on a normal day."
  type        = number
}

variable "secret_recovery_window_in_days" {
  description = "Days a deleted broker secret can be restored."
  type        = number
}
