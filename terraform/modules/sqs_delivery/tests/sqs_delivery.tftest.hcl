mock_provider "aws" {
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
}

run "a_batch_size_out_of_range_is_refused" {
  command = plan

  variables {
    batch_size = 0
  }

  expect_failures = [var.batch_size]
}
