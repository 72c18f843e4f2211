# Pigeon with direct delivery: S3 invokes the function for each raw crash. The least a caller
# of the pigeon module gives; every other setting takes its module's default.

provider "aws" {
  region = var.region
}

# The pigeon module declares the Datadog provider; with datadog_enabled = false it is not used.
provider "datadog" {
  validate = "false"
}

module "pigeon" {
  source = "../../modules/pigeon"

  env             = "example"
  bucket_name     = var.bucket_name
  delivery        = "direct"
  traffic_enabled = var.traffic_enabled

  # The bucket's other notifications and its EventBridge setting, written back unchanged by the
  # apply: none here. Required, so no caller deletes them by leaving this out (docs/deploy.md).
  bucket_notifications = {}

  zip_path         = "${var.artifact_dir}/pigeon.zip"
  zip_sha256_path  = "${var.artifact_dir}/pigeon.zip.sha256"
  artifact_version = jsondecode(file("${var.artifact_dir}/pigeon.version.json")).version

  function = {
    queues = "socorro.normal"
  }
}
