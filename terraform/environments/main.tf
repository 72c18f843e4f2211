# One root for every environment: what differs between stage and prod is in <env>.tfvars and
# nowhere else (every non-secret setting, committed). scripts/deploy.sh ENV plan|apply picks the
# file and the state key, and passes the two values that are not settings: artifact_dir (the
# verified artifact, copied under this directory) and traffic_enabled (its preflight's verdict
# on the broker secret).

locals {
  # Relative paths (validated): the function's filename in state is the same from every
  # checkout and machine; source_code_hash comes from the .sha256 file, the zip's bytes alone.
  zip_path        = "${var.artifact_dir}/pigeon.zip"
  zip_sha256_path = "${var.artifact_dir}/pigeon.zip.sha256"
  artifact        = jsondecode(file("${var.artifact_dir}/pigeon.version.json"))
}

module "pigeon" {
  source = "../modules/pigeon"

  env              = var.env
  delivery         = var.delivery
  traffic_enabled  = var.traffic_enabled
  bucket_name      = var.bucket_name
  zip_path         = local.zip_path
  zip_sha256_path  = local.zip_sha256_path
  artifact_version = local.artifact.version

  key_prefix           = var.key_prefix
  event_names          = var.event_names
  function             = var.function
  sqs                  = var.sqs
  bucket_notifications = var.bucket_notifications
  broker               = var.broker

  alarm_actions   = var.alarm_actions
  datadog_enabled = var.datadog_enabled
  datadog_notify  = var.datadog_notify

  silence_window_minutes = var.silence_window_minutes

  secret_recovery_window_in_days = var.secret_recovery_window_in_days
}
