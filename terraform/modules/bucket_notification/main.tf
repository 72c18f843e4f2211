# New raw crashes in an existing bucket go to the function directly, or to an SQS queue (the
# sqs_delivery module) when queue_arn is set. S3 may invoke the function either way: switching
# from direct to SQS is then one update of the notification, with no moment when neither works.
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

  dynamic "lambda_function" {
    for_each = var.queue_arn == null ? [1] : []
    content {
      id                  = "pigeon-raw-crash"
      lambda_function_arn = var.function_arn
      events              = var.events
      filter_prefix       = var.filter_prefix
    }
  }

  dynamic "queue" {
    for_each = var.queue_arn == null ? [] : [1]
    content {
      id            = "pigeon-raw-crash"
      queue_arn     = var.queue_arn
      events        = var.events
      filter_prefix = var.filter_prefix
    }
  }

  # S3 checks that it may invoke the function, or send to the queue, when the notification is
  # saved: the permission (and the queue's policy, through queue_policy_id) come first.
  depends_on = [aws_lambda_permission.s3, terraform_data.queue_policy]
}

# Orders the notification after the queue's policy, which the sqs_delivery module owns.
resource "terraform_data" "queue_policy" {
  input = var.queue_policy_id
}
