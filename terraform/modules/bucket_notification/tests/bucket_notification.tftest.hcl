mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  bucket_name       = "crashstats-raw"
  bucket_account_id = "123456789012"
  function_arn      = "arn:aws:lambda:us-west-2:123456789012:function:pigeon-test"
  function_name     = "pigeon-test"
}

run "raw_crash_puts_invoke_the_function" {
  command = apply

  assert {
    condition     = aws_s3_bucket_notification.this.lambda_function[0].filter_prefix == "v2/raw_crash/"
    error_message = "only raw crashes"
  }
  assert {
    condition     = aws_s3_bucket_notification.this.lambda_function[0].events == toset(["s3:ObjectCreated:Put"])
    error_message = "only ObjectCreated:Put"
  }
  assert {
    condition     = aws_s3_bucket_notification.this.lambda_function[0].lambda_function_arn == var.function_arn
    error_message = "the function"
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

run "an_empty_prefix_is_rejected" {
  command = plan

  variables {
    filter_prefix = ""
  }

  expect_failures = [var.filter_prefix]
}
