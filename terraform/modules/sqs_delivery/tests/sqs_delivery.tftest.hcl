mock_provider "aws" {
  # Policies must be JSON: the provider checks them.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:us-west-2:123456789012:pigeon-test-delivery" }
  }
}

variables {
  name              = "pigeon-test"
  bucket_name       = "crashstats-raw"
  bucket_account_id = "123456789012"
  function_name     = "pigeon-test"
  function_timeout  = 30
  traffic_enabled   = true
}

run "an_encrypted_queue_for_this_bucket_read_with_partial_batch_failures" {
  command = apply

  assert {
    condition     = aws_sqs_queue.this.sqs_managed_sse_enabled && aws_sqs_queue.dead_letter.sqs_managed_sse_enabled
    error_message = "both queues are encrypted"
  }
  assert {
    condition     = aws_sqs_queue.this.visibility_timeout_seconds == 180
    error_message = "the visibility timeout is six times the function timeout"
  }
  assert {
    condition     = jsondecode(aws_sqs_queue.this.redrive_policy).maxReceiveCount == 5
    error_message = "a dead-letter queue after five deliveries"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "partial batch failures"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.batch_size == 10 && aws_lambda_event_source_mapping.this.maximum_batching_window_in_seconds == 0
    error_message = "batch size and window from the variables"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.enabled
    error_message = "the mapping polls with the traffic gate open"
  }
}

run "with_the_gate_closed_the_queue_keeps_the_notifications" {
  command = plan

  variables {
    traffic_enabled = false
  }

  assert {
    condition     = !aws_lambda_event_source_mapping.this.enabled
    error_message = "the mapping exists but does not poll"
  }
}

run "the_visibility_timeout_covers_six_timeouts_and_the_batching_window" {
  command = plan

  variables {
    batch_size                         = 100
    maximum_batching_window_in_seconds = 20
  }

  assert {
    condition     = aws_sqs_queue.this.visibility_timeout_seconds == 200
    error_message = "6 x 30 s + 20 s"
  }
}

run "a_batch_above_10_without_a_window_is_refused" {
  command = plan

  variables {
    batch_size = 11
  }

  expect_failures = [var.batch_size]
}

run "a_visibility_timeout_below_six_timeouts_and_the_window_is_refused" {
  command = plan

  variables {
    maximum_batching_window_in_seconds = 10
    visibility_timeout_seconds         = 189
  }

  expect_failures = [var.visibility_timeout_seconds]
}

run "a_batch_size_out_of_range_is_refused" {
  command = plan

  variables {
    batch_size = 0
  }

  expect_failures = [var.batch_size]
}
