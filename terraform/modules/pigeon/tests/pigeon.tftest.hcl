mock_provider "aws" {
  # Policies must be JSON: the provider checks them.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  # ARNs the provider checks the form of.
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/pigeon-test-lambda" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:us-west-2:123456789012:pigeon-test-on-failure" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:us-west-2:123456789012:log-group:/aws/lambda/pigeon-test" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:us-west-2:123456789012:function:pigeon-test" }
  }
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
  zip_path        = "../function/tests/fixtures/pigeon.zip"
  zip_sha256_path = "../function/tests/fixtures/pigeon.zip.sha256"
  traffic_enabled = true
  function = {
    queues = "socorro.normal"
  }
  bucket_notifications = {}
}

run "an_environment_composes_every_module" {
  command = apply

  assert {
    condition     = output.function_name == "pigeon-test"
    error_message = "named after the environment"
  }
  assert {
    condition     = length(module.datadog) == 0 && output.dashboard_url == null
    error_message = "Datadog off by default: a first deploy needs no Datadog keys"
  }
  assert {
    condition     = output.bucket_notification_entries == ["pigeon-raw-crash"]
    error_message = "S3 invokes the function with the gate open"
  }
}

run "datadog_can_be_turned_on" {
  command = apply

  variables {
    datadog_enabled = true
    function = {
      queues                = "socorro.normal"
      datadog_forwarder_arn = "arn:aws:lambda:us-west-2:123456789012:function:DatadogForwarder"
    }
  }

  assert {
    condition     = length(module.datadog) == 1
    error_message = "the dashboard and monitors"
  }
}

run "datadog_without_a_way_for_the_metrics_is_refused" {
  command = plan

  variables {
    datadog_enabled = true
  }

  expect_failures = [var.datadog_enabled]
}

run "sqs_delivery_adds_the_item_failures_alarm_and_every_mode_has_the_silence_alarm" {
  command = plan

  variables {
    delivery = "sqs"
  }

  assert {
    condition     = contains(keys(output.alarm_arns), "pigeon-test-item-failures") && contains(keys(output.alarm_arns), "pigeon-test-no-invocations")
    error_message = "the alarms of SQS delivery"
  }
}

run "with_the_gate_closed_nothing_sends_events_to_the_function" {
  command = plan

  variables {
    traffic_enabled = false
  }

  assert {
    condition     = output.bucket_notification_entries == [] && !output.traffic_enabled
    error_message = "no notification entry for Pigeon while the broker secret has no value"
  }
}

run "the_function_settings_reach_the_function" {
  command = plan

  variables {
    function = {
      queues                         = "socorro.normal"
      architecture                   = "arm64"
      memory_size                    = 512
      timeout                        = 60
      reserved_concurrent_executions = 7
    }
  }

  assert {
    condition     = module.function.reserved_concurrent_executions == 7 && module.function.architecture == "arm64" && module.function.memory_size == 512 && module.function.timeout == 60
    error_message = "what the root sets is what the function gets"
  }
}

run "an_unset_function_setting_takes_the_function_modules_default" {
  command = plan

  assert {
    condition     = module.function.memory_size == 256 && module.function.timeout == 30 && module.function.architecture == "x86_64"
    error_message = "null means the function module's default, not an unset argument"
  }
}

run "sqs_delivery_buffers_the_notifications_in_a_queue" {
  command = apply

  variables {
    delivery = "sqs"
  }

  assert {
    condition     = length(output.alarm_arns) == 9
    error_message = "the function's seven alarms and the queue's two"
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

run "sqs_delivery_with_the_gate_closed_keeps_the_queue_entry" {
  command = plan

  variables {
    delivery        = "sqs"
    traffic_enabled = false
  }

  assert {
    condition     = output.bucket_notification_entries == ["pigeon-raw-crash"] && module.bucket_notification.destination == "queue"
    error_message = "S3 still sends to the queue, which keeps the notifications until the mapping polls"
  }
}
