# Pigeon with SQS delivery: S3 sends each raw crash's notification to an encrypted queue with a
# dead-letter queue, which the function reads in batches. A batch above 10 needs a batching
# window; the queue's visibility timeout is then six times the timeout plus the window.

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
  delivery        = "sqs"
  traffic_enabled = var.traffic_enabled

  # The bucket's other notifications and its EventBridge setting, written back unchanged by the
  # apply: none here. Required, so no caller deletes them by leaving this out (docs/deploy.md).
  bucket_notifications = {}

  zip_path         = "${var.artifact_dir}/pigeon.zip"
  zip_sha256_path  = "${var.artifact_dir}/pigeon.zip.sha256"
  artifact_version = jsondecode(file("${var.artifact_dir}/pigeon.version.json")).version

  function = {
    queues                         = "socorro.normal,15:socorro.submitter"
    timeout                        = 30
    reserved_concurrent_executions = 5 # also the queue's maximum concurrency
  }

  sqs = {
    batch_size                         = 50
    maximum_batching_window_in_seconds = 5
  }
}

output "delivery_queue_url" {
  description = "The delivery queue."
  value       = module.pigeon.delivery_queue_url
}

output "dead_letter_queue_url" {
  description = "Notifications that kept failing, to redrive."
  value       = module.pigeon.dead_letter_queue_url
}
