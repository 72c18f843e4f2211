# Lets S3 invoke the function for new raw crashes in an existing bucket.
#
# An aws_s3_bucket_notification holds the bucket's whole notification configuration: if the
# bucket has other notifications, manage them in the same resource, not in a second one.

data "aws_partition" "current" {}

locals {
  bucket_arn = "arn:${data.aws_partition.current.partition}:s3:::${var.bucket_name}"
}

resource "aws_lambda_permission" "s3" {
  statement_id   = "AllowS3InvokeFromCrashBucket"
  action         = "lambda:InvokeFunction"
  function_name  = var.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = local.bucket_arn
  source_account = var.bucket_account_id
}

resource "aws_s3_bucket_notification" "this" {
  bucket = var.bucket_name

  lambda_function {
    id                  = "pigeon-raw-crash"
    lambda_function_arn = var.function_arn
    events              = var.events
    filter_prefix       = var.filter_prefix
  }

  # S3 checks that it may invoke the function when the notification is saved.
  depends_on = [aws_lambda_permission.s3]
}
