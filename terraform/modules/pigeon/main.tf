# Pigeon in one environment: the broker secret, the function, the bucket notification,
# CloudWatch alarms and, optionally, Datadog. terraform/environments/* call this.

data "aws_caller_identity" "current" {}

locals {
  name = "pigeon-${var.env}"
  tags = { Service = "pigeon", Environment = var.env }
}

module "secrets" {
  source = "../secrets"

  name                    = "${local.name}/rabbitmq"
  recovery_window_in_days = var.secret_recovery_window_in_days
  tags                    = local.tags
}

module "function" {
  source = "../function"

  name                        = local.name
  env                         = var.env
  zip_path                    = var.zip_path
  zip_sha256_path             = var.zip_sha256_path
  architecture                = var.architecture
  memory_size                 = var.memory_size
  timeout                     = var.timeout
  reserved_concurrency        = var.reserved_concurrency
  queues                      = var.queues
  rabbitmq_secret_arn         = module.secrets.secret_arn
  rabbitmq_secret_kms_key_arn = module.secrets.kms_key_arn
  key_prefix                  = var.key_prefix
  event_names                 = var.event_names
  metrics_sink                = var.metrics_sink
  log_level                   = var.log_level
  artifact_version            = var.artifact_version

  delivery_queue_arn = try(module.sqs_delivery[0].queue_arn, null)

  datadog_api_key_secret_arn         = var.datadog_api_key_secret_arn
  datadog_api_key_secret_kms_key_arn = var.datadog_api_key_secret_kms_key_arn
  datadog_site                       = var.datadog_site
  datadog_extension_version          = var.datadog_extension_version
  extra_environment                  = var.extra_environment
  layers                             = var.layers
  subnet_ids                         = var.subnet_ids
  security_group_ids                 = var.security_group_ids
  log_retention_days                 = var.log_retention_days
  maximum_retry_attempts             = var.maximum_retry_attempts
  maximum_event_age_seconds          = var.maximum_event_age_seconds
  tags                               = local.tags
}

module "bucket_notification" {
  source = "../bucket_notification"

  bucket_name       = var.bucket_name
  bucket_account_id = data.aws_caller_identity.current.account_id
  function_arn      = module.function.function_arn
  function_name     = module.function.function_name

  # One value each for what the notification and the function must agree on.
  filter_prefix = var.key_prefix
  events        = var.event_names

  queue_arn       = try(module.sqs_delivery[0].queue_arn, null)
  queue_policy_id = try(module.sqs_delivery[0].queue_policy_id, null)
}

module "sqs_delivery" {
  source = "../sqs_delivery"
  count  = var.delivery == "sqs" ? 1 : 0

  name                    = local.name
  bucket_name             = var.bucket_name
  bucket_account_id       = data.aws_caller_identity.current.account_id
  function_name           = module.function.function_name
  function_timeout        = var.timeout
  batch_size              = var.sqs_batch_size
  batching_window_seconds = var.sqs_batching_window_seconds
  maximum_concurrency     = var.reserved_concurrency
  alarm_actions           = var.alarm_actions
  tags                    = local.tags
}

module "alarms" {
  source = "../alarms"

  function_name      = module.function.function_name
  function_timeout   = module.function.timeout
  failure_queue_name = module.function.failure_queue_name
  alarm_actions      = var.alarm_actions
}

module "datadog" {
  source = "../datadog"
  count  = var.datadog_enabled ? 1 : 0

  env           = var.env
  function_name = module.function.function_name
  notify        = var.datadog_notify
  tags          = ["team:socorro"]
}
