mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { region = "us-west-2" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:us-west-2:123456789012:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_secretsmanager_secret" {
    defaults = { arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:pigeon-test/rabbitmq-AbCdEf" }
  }
}

mock_provider "datadog" {}

variables {
  env             = "test"
  bucket_name     = "crashstats-test-raw"
  queues          = "socorro.normal"
  zip_path        = "../function/tests/fixtures/pigeon.zip"
  zip_sha256_path = "../function/tests/fixtures/pigeon.zip.sha256"
}

run "an_environment_composes_every_module" {
  command = apply

  assert {
    condition     = output.function_name == "pigeon-test"
    error_message = "named after the environment"
  }
  assert {
    condition     = length(module.datadog) == 1
    error_message = "Datadog on by default"
  }
}

run "datadog_can_be_turned_off" {
  command = apply

  variables {
    datadog_enabled = false
  }

  assert {
    condition     = length(module.datadog) == 0 && output.dashboard_url == null
    error_message = "no Datadog resources when disabled"
  }
}

run "sqs_delivery_buffers_the_notifications_in_a_queue" {
  command = apply

  variables {
    delivery = "sqs"
  }

  assert {
    condition     = length(module.sqs_delivery) == 1 && output.delivery_queue_url != null
    error_message = "the delivery queue, its dead-letter queue and the mapping"
  }
  assert {
    condition     = module.bucket_notification.destination == "queue"
    error_message = "the notification goes to the queue"
  }
}

run "direct_delivery_has_no_queue" {
  command = apply

  assert {
    condition     = length(module.sqs_delivery) == 0 && module.bucket_notification.destination == "function"
    error_message = "S3 invokes the function"
  }
}
