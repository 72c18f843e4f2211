output "alarm_arns" {
  description = "ARNs of every alarm, by name."
  value = merge(
    { for k, a in aws_cloudwatch_metric_alarm.lambda : a.alarm_name => a.arn },
    { for a in aws_cloudwatch_metric_alarm.item_failures : a.alarm_name => a.arn },
    { for a in aws_cloudwatch_metric_alarm.silence : a.alarm_name => a.arn },
    {
      (aws_cloudwatch_metric_alarm.duration_p99.alarm_name)  = aws_cloudwatch_metric_alarm.duration_p99.arn
      (aws_cloudwatch_metric_alarm.failure_queue.alarm_name) = aws_cloudwatch_metric_alarm.failure_queue.arn
    },
  )
}
