# One root for every environment: what differs between stage and prod is in <env>.tfvars and
# nowhere else. scripts/deploy.sh ENV plan|apply picks the file and the state key.

module "pigeon" {
  source = "../modules/pigeon"

  env             = var.env
  delivery        = var.delivery
  bucket_name     = var.bucket_name
  queues          = var.queues
  zip_path        = "${var.artifact_dir}/pigeon.zip"
  zip_sha256_path = "${var.artifact_dir}/pigeon.zip.sha256"

  reserved_concurrency = var.reserved_concurrency
  log_retention_days   = var.log_retention_days
  log_level            = var.log_level

  metrics_sink      = var.metrics_sink
  artifact_version  = try(jsondecode(file("${var.artifact_dir}/pigeon.version.json")).version, "unknown")
  layers            = var.layers
  extra_environment = var.extra_environment

  datadog_api_key_secret_arn         = var.datadog_api_key_secret_arn
  datadog_api_key_secret_kms_key_arn = var.datadog_api_key_secret_kms_key_arn
  datadog_site                       = var.datadog_site
  subnet_ids                         = var.subnet_ids
  security_group_ids                 = var.security_group_ids

  alarm_actions   = var.alarm_actions
  datadog_enabled = var.datadog_enabled
  datadog_notify  = var.datadog_notify

  secret_recovery_window_in_days = var.secret_recovery_window_in_days
}
