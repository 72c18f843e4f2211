# Stage: what prod runs, smaller, and its alarms page nobody.

locals {
  env = "stage"
}

module "pigeon" {
  source = "../../modules/pigeon"

  env             = local.env
  bucket_name     = var.bucket_name
  queues          = var.queues
  zip_path        = "${var.artifact_dir}/pigeon.zip"
  zip_sha256_path = "${var.artifact_dir}/pigeon.zip.sha256"

  reserved_concurrency = 5
  log_retention_days   = 14
  log_level            = "DEBUG"

  metrics_sink       = var.metrics_sink
  layers             = var.layers
  extra_environment  = var.extra_environment
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids

  alarm_actions   = var.alarm_actions
  datadog_enabled = var.datadog_enabled
  datadog_notify  = var.datadog_notify

  secret_recovery_window_in_days = 7
}
