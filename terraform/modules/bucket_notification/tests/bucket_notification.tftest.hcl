mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { region = "us-west-2" }
  }
}

variables {
  bucket_name       = "crashstats-raw"
  bucket_account_id = "123456789012"
  function_arn      = "arn:aws:lambda:us-west-2:123456789012:function:pigeon-test"
  function_name     = "pigeon-test"
  traffic_enabled   = true
}

run "raw_crash_puts_invoke_the_function" {
  command = apply

  assert {
    condition     = aws_s3_bucket_notification.this[0].lambda_function[0].filter_prefix == "v2/raw_crash/"
    error_message = "only raw crashes"
  }
  assert {
    condition     = aws_s3_bucket_notification.this[0].lambda_function[0].events == toset(["s3:ObjectCreated:Put"])
    error_message = "only ObjectCreated:Put"
  }
  assert {
    condition     = aws_s3_bucket_notification.this[0].lambda_function[0].lambda_function_arn == var.function_arn
    error_message = "the function"
  }
  assert {
    condition     = !aws_s3_bucket_notification.this[0].eventbridge
    error_message = "EventBridge stays off unless taken over"
  }
}

run "only_this_bucket_of_this_account_may_invoke" {
  command = apply

  assert {
    condition     = aws_lambda_permission.s3.principal == "s3.amazonaws.com" && aws_lambda_permission.s3.action == "lambda:InvokeFunction"
    error_message = "S3 may invoke"
  }
  assert {
    condition     = aws_lambda_permission.s3.source_arn == "arn:aws:s3:::crashstats-raw" && aws_lambda_permission.s3.source_account == "123456789012"
    error_message = "scoped to the bucket and its account (confused deputy)"
  }
}

run "with_the_gate_closed_the_bucket_is_not_touched" {
  command = plan

  variables {
    traffic_enabled = false
  }

  assert {
    condition     = length(aws_s3_bucket_notification.this) == 0 && output.entry_ids == [] && !output.pigeon_entry
    error_message = "no notification for Pigeon while the traffic gate is closed"
  }
}

run "with_the_gate_closed_taken_over_entries_are_still_written_back" {
  command = plan

  variables {
    traffic_enabled = false
    eventbridge     = true
    lambda_notifications = {
      thumbnails = {
        function_arn  = "arn:aws:lambda:us-west-2:123456789012:function:thumbnails"
        events        = ["s3:ObjectCreated:*"]
        filter_prefix = "v1/dump/"
      }
    }
  }

  assert {
    condition     = length(aws_s3_bucket_notification.this[0].lambda_function) == 1 && aws_s3_bucket_notification.this[0].lambda_function[0].id == "thumbnails"
    error_message = "only the taken-over entry, no Pigeon entry"
  }
  assert {
    condition     = aws_s3_bucket_notification.this[0].eventbridge
    error_message = "EventBridge delivery is kept on"
  }
}

run "taken_over_entries_are_written_back_unchanged_next_to_pigeons" {
  command = plan

  variables {
    eventbridge = true
    lambda_notifications = {
      thumbnails = {
        function_arn  = "arn:aws:lambda:us-west-2:123456789012:function:thumbnails"
        events        = ["s3:ObjectCreated:*"]
        filter_prefix = "v1/dump/"
      }
    }
    sqs_notifications = {
      audit = {
        queue_arn = "arn:aws:sqs:us-west-2:123456789012:audit"
        events    = ["s3:ObjectRemoved:*"]
      }
    }
    sns_notifications = {
      processed = {
        topic_arn     = "arn:aws:sns:us-west-2:123456789012:processed"
        events        = ["s3:ObjectCreated:Put"]
        filter_prefix = "v1/processed_crash/"
        filter_suffix = ".json"
      }
    }
  }

  assert {
    condition     = output.entry_ids == ["pigeon-raw-crash", "thumbnails", "audit", "processed"]
    error_message = "Pigeon's entry and every taken-over one"
  }
  assert {
    condition     = [for f in aws_s3_bucket_notification.this[0].lambda_function : f.id] == ["pigeon-raw-crash", "thumbnails"]
    error_message = "both Lambda entries"
  }
  assert {
    condition     = aws_s3_bucket_notification.this[0].queue[0].queue_arn == "arn:aws:sqs:us-west-2:123456789012:audit" && aws_s3_bucket_notification.this[0].queue[0].filter_prefix == null
    error_message = "the SQS entry, without a filter it did not have"
  }
  assert {
    condition     = aws_s3_bucket_notification.this[0].topic[0].filter_suffix == ".json" && aws_s3_bucket_notification.this[0].topic[0].filter_prefix == "v1/processed_crash/"
    error_message = "the SNS entry with its filters"
  }
}

run "an_entry_that_overlaps_pigeons_is_refused_at_plan" {
  command = plan

  variables {
    lambda_notifications = {
      everything = {
        function_arn  = "arn:aws:lambda:us-west-2:123456789012:function:indexer"
        events        = ["s3:ObjectCreated:*"]
        filter_prefix = "v2/"
      }
    }
  }

  expect_failures = [aws_s3_bucket_notification.this]
}

run "an_id_used_twice_is_refused" {
  command = plan

  variables {
    sns_notifications = {
      "pigeon-raw-crash" = {
        topic_arn = "arn:aws:sns:us-west-2:123456789012:processed"
        events    = ["s3:ObjectRemoved:*"]
      }
    }
  }

  expect_failures = [var.sns_notifications]
}

run "sqs_delivery_keeps_its_entry_with_the_gate_closed" {
  command = plan

  variables {
    destination     = "queue"
    queue_arn       = "arn:aws:sqs:us-west-2:123456789012:pigeon-test-delivery"
    traffic_enabled = false
  }

  assert {
    condition     = aws_s3_bucket_notification.this[0].queue[0].queue_arn == var.queue_arn && length(aws_s3_bucket_notification.this[0].lambda_function) == 0
    error_message = "S3 sends to the queue, which keeps the notifications"
  }
}

run "an_empty_prefix_is_rejected" {
  command = plan

  variables {
    filter_prefix = ""
  }

  expect_failures = [var.filter_prefix]
}
