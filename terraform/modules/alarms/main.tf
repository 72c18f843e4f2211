# CloudWatch alarms for the function, its asynchronous invocations and its on-failure queue,
# for silence (no invocation in a window the environment sets), and with SQS delivery for the
# messages the function reports as failed. Missing data is not breaching, except for silence:
# there, no data point is exactly what the alarm is for.

locals {
  prefix = coalesce(var.name_prefix, var.function_name)
  lambda = { FunctionName = var.function_name }

  # The silence window in periods CloudWatch takes: one period up to an hour; above, hourly
  # periods, all of them empty (CloudWatch: periods under an hour may span one day in all,
  # hourly ones seven days).
  silence_period  = min(var.silence_window_minutes, 60) * 60
  silence_periods = var.silence_window_minutes * 60 / local.silence_period

  # The function's own metrics in CloudWatch, one namespace per function.
  namespace = "Pigeon/${var.function_name}"
  sqs       = var.delivery == "sqs"

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

# Silence: a crash pipeline that goes quiet is an outage no error shows (a deleted or replaced
# bucket notification, a disabled event source mapping). Lambda writes no Invocations data
# point when nothing invokes the function, so missing data breaches. The gate closed (no
# broker secret yet) is a silence by design: the alarm exists only once it is open. Not an
# alarm with its actions off: one in ALARM while the gate is closed would stay in ALARM when it
# opens, and CloudWatch notifies only on a change of state, so a gate opened on a broken
# notification would never page. Made when the gate opens, it starts in INSUFFICIENT_DATA.
resource "aws_cloudwatch_metric_alarm" "silence" {
  count = var.traffic_enabled ? 1 : 0

  alarm_name          = "${local.prefix}-no-invocations"
  alarm_description   = "No invocation in ${var.silence_window_minutes} minutes, while the bucket normally gets crashes all day: no event reaches the function (the bucket notification, the delivery queue's mapping, the traffic gate). See docs/operations.md, \"No crash arrives\"."
  namespace           = "AWS/Lambda"
  metric_name         = "Invocations"
  dimensions          = local.lambda
  statistic           = "Sum"
  period              = local.silence_period
  evaluation_periods  = local.silence_periods
  datapoints_to_alarm = local.silence_periods
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

# With SQS delivery the function never raises for a publish error: it reports the messages in
# batchItemFailures, so Errors stays at 0. The `invocation summary` log line carries their
# count (item_failures, the item_failure metric of function/pigeon/metrics.py); this filter
# makes it a CloudWatch metric.
resource "aws_cloudwatch_log_metric_filter" "item_failures" {
  count          = local.sqs ? 1 : 0
  name           = "${local.prefix}-item-failures"
  log_group_name = var.log_group_name
  pattern        = "{ $.item_failures > 0 }"

  metric_transformation {
    name      = "ItemFailures"
    namespace = local.namespace
    value     = "$.item_failures"
    unit      = "Count"
  }
}

resource "aws_cloudwatch_metric_alarm" "item_failures" {
  count               = local.sqs ? 1 : 0
  alarm_name          = "${local.prefix}-item-failures"
  alarm_description   = "SQS messages the function reported as failed (batchItemFailures): their crash ids were not confirmed (the broker is down or refuses), or the message cannot be read. SQS delivers them again, then moves them to the dead-letter queue."
  namespace           = aws_cloudwatch_log_metric_filter.item_failures[0].metric_transformation[0].namespace
  metric_name         = aws_cloudwatch_log_metric_filter.item_failures[0].metric_transformation[0].name
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = 1
  threshold           = var.item_failures_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
