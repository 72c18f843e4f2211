# Pigeon in one environment: the broker secret, the function, the bucket notification,
# CloudWatch alarms, optionally SQS delivery and Datadog. terraform/environments calls this.
#
# What the function module and the sqs_delivery module can be told comes in as one object each
# (var.function, var.sqs), by those modules' own variable names: each setting is declared,
# described, defaulted and validated once, in the module that uses it. This module wires only
# what several modules must agree on.

data "aws_caller_identity" "current" {}

locals {
  name = "pigeon-${var.env}"
  tags = { Service = local.service, Environment = var.env }

  # Datadog's unified service tag: the same in every environment (env is DD_ENV). The function
  # sends it (DD_SERVICE), the monitors carry it.
  service = "pigeon"
}

# The broker's connections (#24): every execution environment holds its own connection, and
# Lambda starts as many environments as the concurrency allows (a burst: up to 1,000 more every
# 10 seconds). A broker refuses connections past its limit, which Amazon MQ sets by instance
# size. So the plan refuses a concurrency whose connections, with the other clients', do not fit.
locals {
  # Amazon MQ for RabbitMQ, the most connections per broker node by instance type: AWS's sizing
  # guidelines, https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rabbitmq-sizing-guidelines.html
  # (single-instance maxima; RabbitMQ 4 brokers start at lower defaults: give connection_limit).
  broker_connection_limits = {
    "mq.t3.micro"     = 500
    "mq.m5.large"     = 5000
    "mq.m5.xlarge"    = 10000
    "mq.m5.2xlarge"   = 20000
    "mq.m5.4xlarge"   = 40000
    "mq.m7g.medium"   = 300
    "mq.m7g.large"    = 5000
    "mq.m7g.xlarge"   = 10000
    "mq.m7g.2xlarge"  = 20000
    "mq.m7g.4xlarge"  = 40000
    "mq.m7g.8xlarge"  = 80000
    "mq.m7g.12xlarge" = 120000
  }
  broker_connection_limit = (
    var.broker.connection_limit != null ? var.broker.connection_limit :
    lookup(local.broker_connection_limits, coalesce(var.broker.instance_type, "none"), null)
  )
  broker_name                        = var.broker.instance_type != null ? var.broker.instance_type : "connection_limit"
  broker_other_connections           = coalesce(var.broker.other_connections, 0)
  broker_connections_per_environment = coalesce(var.broker.connections_per_environment, 1)
  # The most environments at once: the reserved concurrency, which is also the SQS mapping's
  # maximum concurrency. Null (unreserved): the account's unreserved concurrency is the bound,
  # which only scripts/deploy.sh can read (GetAccountSettings); it checks it after the plan.
  maximum_concurrency = var.function.reserved_concurrent_executions
  broker_connections = (
    local.maximum_concurrency == null ? null :
    local.maximum_concurrency * local.broker_connections_per_environment + local.broker_other_connections
  )
  # The most environments the broker takes (for the refusal's advice).
  broker_room = (
    local.broker_connection_limit == null ? null :
    max(0, floor((local.broker_connection_limit - local.broker_other_connections) / local.broker_connections_per_environment))
  )
}

# What the checks read: scripts/deploy.sh finds it in the plan by its type and input.
resource "terraform_data" "broker_connections" {
  input = {
    broker_connection_limit     = local.broker_connection_limit
    maximum_concurrency         = local.maximum_concurrency
    connections_per_environment = local.broker_connections_per_environment
    other_connections           = local.broker_other_connections
  }

  lifecycle {
    precondition {
      condition     = var.broker.instance_type == null || contains(keys(local.broker_connection_limits), coalesce(var.broker.instance_type, "none"))
      error_message = "broker.instance_type = \"${coalesce(var.broker.instance_type, "")}\" is not an Amazon MQ for RabbitMQ instance type of the sizing table (${join(", ", keys(local.broker_connection_limits))}): give one of them, or the broker's connection_limit as a number."
    }
    precondition {
      condition     = local.broker_connection_limit == null || local.broker_connections == null || try(local.broker_connections <= local.broker_connection_limit, true)
      error_message = "The broker would be asked for more connections than it holds: reserved_concurrent_executions = ${local.maximum_concurrency} environments x ${local.broker_connections_per_environment} connection(s) each + ${local.broker_other_connections} of other clients = ${local.broker_connections}, and the broker (${local.broker_name}) holds ${local.broker_connection_limit}. Lower reserved_concurrent_executions to at most ${local.broker_room}, or use a larger broker (docs/deploy.md, sizing)."
    }
  }
}

# Unreserved concurrency with a broker limit: the plan says where the bound is checked.
check "broker_connections_unreserved" {
  assert {
    condition     = local.broker_connection_limit == null || local.maximum_concurrency != null
    error_message = "reserved_concurrent_executions is null (unreserved): the function may run as many environments as the account's unreserved concurrency, each with its own connection, against a broker that holds ${local.broker_connection_limit}. scripts/deploy.sh checks that bound (GetAccountSettings) before the apply; reserve a concurrency to make the bound this plan's."
  }
}

module "secrets" {
  source = "../secrets"

  name                    = "${local.name}/rabbitmq"
  recovery_window_in_days = var.secret_recovery_window_in_days
  tags                    = local.tags
}

module "function" {
  source = "../function"

  # Wired here.
  name                        = local.name
  env                         = var.env
  service                     = local.service
  zip_path                    = var.zip_path
  zip_sha256_path             = var.zip_sha256_path
  artifact_version            = var.artifact_version
  rabbitmq_secret_arn         = module.secrets.secret_arn
  rabbitmq_secret_kms_key_arn = module.secrets.kms_key_arn
  key_prefix                  = var.key_prefix
  event_names                 = var.event_names
  delivery_queue_arn          = try(module.sqs_delivery[0].queue_arn, null)
  tags                        = local.tags

  # var.function, by the function module's names (null: that module's default).
  queues                             = var.function.queues
  architecture                       = var.function.architecture
  memory_size                        = var.function.memory_size
  timeout                            = var.function.timeout
  reserved_concurrent_executions     = var.function.reserved_concurrent_executions
  metrics_sink                       = var.function.metrics_sink
  log_level                          = var.function.log_level
  datadog_api_key_secret_arn         = var.function.datadog_api_key_secret_arn
  datadog_api_key_secret_kms_key_arn = var.function.datadog_api_key_secret_kms_key_arn
  datadog_forwarder_arn              = var.function.datadog_forwarder_arn
  datadog_site                       = var.function.datadog_site
  datadog_extension_version          = var.function.datadog_extension_version
  environment_variables              = var.function.environment_variables
  layers                             = var.function.layers
  vpc_subnet_ids                     = var.function.vpc_subnet_ids
  vpc_security_group_ids             = var.function.vpc_security_group_ids
  create_security_group              = var.function.create_security_group
  broker_port                        = var.function.broker_port
  broker_cidr_blocks                 = var.function.broker_cidr_blocks
  vpc_egress                         = var.function.vpc_egress
  cloudwatch_logs_retention_in_days  = var.function.cloudwatch_logs_retention_in_days
  maximum_retry_attempts             = var.function.maximum_retry_attempts
  maximum_event_age_in_seconds       = var.function.maximum_event_age_in_seconds
  failure_queue_retention_seconds    = var.function.failure_queue_retention_seconds
  snap_start                         = var.function.snap_start
}

module "bucket_notification" {
  source = "../bucket_notification"

  bucket_name        = var.bucket_name
  bucket_account_id  = data.aws_caller_identity.current.account_id
  function_arn       = module.function.target_arn
  function_name      = module.function.function_name
  function_qualifier = module.function.qualifier

  # The traffic gate: with direct delivery, no entry for Pigeon until traffic_enabled.
  destination     = var.delivery == "sqs" ? "queue" : "function"
  traffic_enabled = var.traffic_enabled

  # One value each for what the notification and the function must agree on.
  filter_prefix = var.key_prefix
  events        = var.event_names

  queue_arn       = try(module.sqs_delivery[0].queue_arn, null)
  queue_policy_id = try(module.sqs_delivery[0].queue_policy_id, null)

  # The bucket's other entries and EventBridge, written back unchanged.
  lambda_notifications = var.bucket_notifications.lambda_notifications
  sqs_notifications    = var.bucket_notifications.sqs_notifications
  sns_notifications    = var.bucket_notifications.sns_notifications
  eventbridge          = var.bucket_notifications.eventbridge
}

module "sqs_delivery" {
  source = "../sqs_delivery"
  count  = var.delivery == "sqs" ? 1 : 0

  name                = local.name
  bucket_name         = var.bucket_name
  bucket_account_id   = data.aws_caller_identity.current.account_id
  function_name       = module.function.target_arn
  function_timeout    = module.function.timeout
  maximum_concurrency = module.function.reserved_concurrent_executions
  traffic_enabled     = var.traffic_enabled
  alarm_actions       = var.alarm_actions
  tags                = local.tags

  # var.sqs, by the sqs_delivery module's names (null: that module's default).
  batch_size                         = var.sqs.batch_size
  maximum_batching_window_in_seconds = var.sqs.maximum_batching_window_in_seconds
  visibility_timeout_seconds         = var.sqs.visibility_timeout_seconds
  max_receive_count                  = var.sqs.max_receive_count
  oldest_message_alarm_seconds       = var.sqs.oldest_message_alarm_seconds
}

module "alarms" {
  source = "../alarms"

  function_name      = module.function.function_name
  function_timeout   = module.function.timeout
  failure_queue_name = module.function.failure_queue_name
  log_group_name     = module.function.log_group_name
  delivery           = var.delivery
  traffic_enabled    = var.traffic_enabled
  alarm_actions      = var.alarm_actions
  tags               = local.tags

  silence_window_minutes = var.silence_window_minutes
}

module "datadog" {
  source = "../datadog"
  count  = var.datadog_enabled ? 1 : 0

  env           = var.env
  service       = local.service
  function_name = module.function.function_name
  notify        = var.datadog_notify
  tags          = ["team:socorro"]

  silence_window_minutes = var.silence_window_minutes
  traffic_enabled        = var.traffic_enabled
}
