# New raw crashes in an existing bucket go to the function directly, or to an SQS queue (the
# sqs_delivery module) with destination = "queue". S3 may invoke the function either way:
# switching from direct to SQS is then one update of the notification, with no moment when
# neither works.
#
# An aws_s3_bucket_notification OWNS THE BUCKET'S WHOLE NOTIFICATION CONFIGURATION: applying it
# replaces every entry on the bucket (other teams' Lambda, SQS and SNS entries included) and
# sets EventBridge delivery on or off; destroying it deletes every entry. So the bucket's other
# entries, and EventBridge, are taken over here explicitly (lambda_notifications,
# sqs_notifications, sns_notifications, eventbridge) and written back unchanged, next to
# Pigeon's own entry. scripts/deploy.sh compares the bucket's current configuration with the
# planned one and refuses a plan that would lose an entry (docs/deploy.md).
#
# traffic_enabled = false (direct delivery): no Pigeon entry. With nothing taken over either,
# there is no aws_s3_bucket_notification at all and the bucket is not touched.

# The bucket's region (S3 notifies only a function or queue of its own region) and its existence
# are checked by scripts/deploy.sh before the plan (GetBucketLocation, the bucket-region
# preflight), with the deploy's own credentials: docs/deploy.md.

data "aws_partition" "current" {}

locals {
  bucket_arn = "arn:${data.aws_partition.current.partition}:s3:::${var.bucket_name}"

  to_function = var.destination == "function" && var.traffic_enabled
  to_queue    = var.destination == "queue"

  pigeon = {
    id            = var.entry_id
    events        = var.events
    filter_prefix = var.filter_prefix
    filter_suffix = ""
  }

  # Every entry written, Pigeon's first: what S3's rules apply to.
  entries = concat(
    local.to_function || local.to_queue ? [local.pigeon] : [],
    [for id, n in var.lambda_notifications : merge(n, { id = id })],
    [for id, n in var.sqs_notifications : merge(n, { id = id })],
    [for id, n in var.sns_notifications : merge(n, { id = id })],
  )

  # S3 refuses two entries that share an event type (s3:ObjectCreated:* covers
  # s3:ObjectCreated:Put) for keys both filters match ("Configurations overlap").
  overlaps = flatten([
    for i, a in local.entries : [
      for j, b in local.entries : "${a.id} and ${b.id}"
      if i < j &&
      anytrue([for e in a.events : anytrue([for f in b.events : e == f || (endswith(e, "*") && startswith(f, trimsuffix(e, "*"))) || (endswith(f, "*") && startswith(e, trimsuffix(f, "*")))])]) &&
      (startswith(a.filter_prefix, b.filter_prefix) || startswith(b.filter_prefix, a.filter_prefix)) &&
      (endswith(a.filter_suffix, b.filter_suffix) || endswith(b.filter_suffix, a.filter_suffix))
    ]
  ])
}

resource "aws_lambda_permission" "s3" {
  statement_id   = "AllowS3InvokeFromCrashBucket"
  action         = "lambda:InvokeFunction"
  function_name  = var.function_name
  qualifier      = var.function_qualifier
  principal      = "s3.amazonaws.com"
  source_arn     = local.bucket_arn
  source_account = var.bucket_account_id

  lifecycle {
    # A new qualifier (SnapStart on or off) replaces the permission: the new one first, so S3
    # may invoke the old target until the notification names the new one.
    create_before_destroy = true
  }
}

resource "aws_s3_bucket_notification" "this" {
  count = length(local.entries) > 0 || var.eventbridge ? 1 : 0

  bucket      = var.bucket_name
  eventbridge = var.eventbridge

  dynamic "lambda_function" {
    for_each = local.to_function ? [local.pigeon] : []
    content {
      id                  = lambda_function.value.id
      lambda_function_arn = var.function_arn
      events              = lambda_function.value.events
      filter_prefix       = lambda_function.value.filter_prefix
    }
  }

  dynamic "lambda_function" {
    for_each = var.lambda_notifications
    content {
      id                  = lambda_function.key
      lambda_function_arn = lambda_function.value.function_arn
      events              = lambda_function.value.events
      filter_prefix       = lambda_function.value.filter_prefix == "" ? null : lambda_function.value.filter_prefix
      filter_suffix       = lambda_function.value.filter_suffix == "" ? null : lambda_function.value.filter_suffix
    }
  }

  dynamic "queue" {
    for_each = local.to_queue ? [local.pigeon] : []
    content {
      id            = queue.value.id
      queue_arn     = var.queue_arn
      events        = queue.value.events
      filter_prefix = queue.value.filter_prefix
    }
  }

  dynamic "queue" {
    for_each = var.sqs_notifications
    content {
      id            = queue.key
      queue_arn     = queue.value.queue_arn
      events        = queue.value.events
      filter_prefix = queue.value.filter_prefix == "" ? null : queue.value.filter_prefix
      filter_suffix = queue.value.filter_suffix == "" ? null : queue.value.filter_suffix
    }
  }

  dynamic "topic" {
    for_each = var.sns_notifications
    content {
      id            = topic.key
      topic_arn     = topic.value.topic_arn
      events        = topic.value.events
      filter_prefix = topic.value.filter_prefix == "" ? null : topic.value.filter_prefix
      filter_suffix = topic.value.filter_suffix == "" ? null : topic.value.filter_suffix
    }
  }

  lifecycle {
    precondition {
      condition     = length(local.overlaps) == 0
      error_message = "S3 refuses entries that share an event type for the same keys (\"Configurations overlap\"): ${join("; ", local.overlaps)}. Give them prefixes or suffixes that do not overlap, or other event types."
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

# Before the traffic gate the notification had no count.
moved {
  from = aws_s3_bucket_notification.this
  to   = aws_s3_bucket_notification.this[0]
}
