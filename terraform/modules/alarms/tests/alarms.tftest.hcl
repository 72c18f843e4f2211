mock_provider "aws" {}

variables {
  function_name      = "pigeon-test"
  function_timeout   = 30
  failure_queue_name = "pigeon-test-on-failure"
  alarm_actions      = ["arn:aws:sns:us-west-2:123456789012:pager"]
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
