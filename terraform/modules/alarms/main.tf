# CloudWatch alarms for the function, its asynchronous invocations and its on-failure queue.
# Missing data is not breaching: no invocations means nothing went wrong.

locals {
  prefix = coalesce(var.name_prefix, var.function_name)
  lambda = { FunctionName = var.function_name }

  # name => settings of each alarm on an AWS/Lambda metric
  lambda_alarms = {
    errors = {
      metric      = "Errors"
      statistic   = "Sum"
      threshold   = var.errors_threshold
      comparison  = "GreaterThanOrEqualToThreshold"
      description = "Invocations failed: publish errors (broker down, unroutable, timed out). Lambda retries them; see the function's logs."
    }
    throttles = {
      metric      = "Throttles"
      statistic   = "Sum"
      threshold   = var.throttles_threshold
      comparison  = "GreaterThanOrEqualToThreshold"
      description = "Reserved concurrency reached: events wait in Lambda's async queue."
    }
    async-events-dropped = {
      metric      = "AsyncEventsDropped"
      statistic   = "Sum"
      threshold   = 0
      comparison  = "GreaterThanThreshold"
      description = "Lambda dropped events without running them (too old, or retries exhausted with no destination)."
    }
    async-event-age = {
      metric      = "AsyncEventAge"
      statistic   = "Maximum"
      threshold   = var.async_event_age_threshold_seconds * 1000
      comparison  = "GreaterThanThreshold"
      description = "Events wait long before they run: retries or throttling are delaying crash processing."
    }
    destination-delivery-failures = {
      metric      = "DestinationDeliveryFailures"
      statistic   = "Sum"
      threshold   = 0
      comparison  = "GreaterThanThreshold"
      description = "A failed event could not be sent to the on-failure queue: it may be lost."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "lambda" {
  for_each = local.lambda_alarms

  alarm_name          = "${local.prefix}-${each.key}"
  alarm_description   = each.value.description
  namespace           = "AWS/Lambda"
  metric_name         = each.value.metric
  dimensions          = local.lambda
  statistic           = each.value.statistic
  period              = var.period_seconds
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = each.value.comparison
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "duration_p99" {
  alarm_name          = "${local.prefix}-duration-p99"
  alarm_description   = "p99 duration is close to the timeout: a slow broker will soon time invocations out."
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = local.lambda
  extended_statistic  = "p99"
  period              = var.period_seconds
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = var.function_timeout * 1000 * var.duration_ratio
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "failure_queue" {
  alarm_name          = "${local.prefix}-on-failure-queue-not-empty"
  alarm_description   = "Events Lambda gave up on are waiting on ${var.failure_queue_name}: their crash ids were not published. Fix the cause, then redrive them."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = var.failure_queue_name }
  statistic           = "Maximum"
  period              = var.period_seconds
  evaluation_periods  = 1
  threshold           = var.failure_queue_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
