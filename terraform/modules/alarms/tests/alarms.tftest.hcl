mock_provider "aws" {}

variables {
  function_name      = "pigeon-test"
  function_timeout   = 30
  failure_queue_name = "pigeon-test-on-failure"
  log_group_name     = "/aws/lambda/pigeon-test"
  alarm_actions      = ["arn:aws:sns:us-west-2:123456789012:pager"]
  traffic_enabled    = true
}

run "every_failure_mode_has_an_alarm" {
  command = apply

  assert {
    condition     = toset([for a in aws_cloudwatch_metric_alarm.lambda : a.metric_name]) == toset(["Errors", "Throttles", "AsyncEventsDropped", "AsyncEventAge", "DestinationDeliveryFailures"])
    error_message = "Lambda alarms"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.duration_p99.extended_statistic == "p99" && aws_cloudwatch_metric_alarm.duration_p99.threshold == 24000
    error_message = "p99 duration alarm at 80% of a 30 s timeout"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.failure_queue.metric_name == "ApproximateNumberOfMessagesVisible" && aws_cloudwatch_metric_alarm.failure_queue.dimensions["QueueName"] == "pigeon-test-on-failure"
    error_message = "on-failure queue alarm"
  }
}

run "alarms_notify_and_treat_missing_data_explicitly" {
  command = apply

  assert {
    condition     = alltrue([for a in values(aws_cloudwatch_metric_alarm.lambda) : a.treat_missing_data == "notBreaching" && contains(tolist(a.alarm_actions), "arn:aws:sns:us-west-2:123456789012:pager")])
    error_message = "every Lambda alarm notifies and treats missing data as not breaching"
  }
  assert {
    condition     = contains(tolist(aws_cloudwatch_metric_alarm.failure_queue.alarm_actions), "arn:aws:sns:us-west-2:123456789012:pager")
    error_message = "the queue alarm notifies"
  }
}

run "silence_breaches_on_missing_data_over_the_window" {
  command = apply

  variables {
    silence_window_minutes = 240
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.silence[0].metric_name == "Invocations" && aws_cloudwatch_metric_alarm.silence[0].treat_missing_data == "breaching"
    error_message = "no invocation is no data point: it breaches"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.silence[0].period == 3600 && aws_cloudwatch_metric_alarm.silence[0].evaluation_periods == 4 && aws_cloudwatch_metric_alarm.silence[0].datapoints_to_alarm == 4
    error_message = "4 hours: four hourly periods, all empty"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.item_failures) == 0
    error_message = "item failures only with SQS delivery"
  }
}

run "sqs_delivery_alarms_on_item_failures" {
  command = apply

  variables {
    delivery = "sqs"
  }

  assert {
    condition     = aws_cloudwatch_log_metric_filter.item_failures[0].pattern == "{ $.item_failures > 0 }" && aws_cloudwatch_metric_alarm.item_failures[0].metric_name == "ItemFailures"
    error_message = "the invocation summary's item_failures, as a metric, alarmed on"
  }
}
