output "queue_arn" {
  description = "ARN of the delivery queue: the bucket notification's destination."
  value       = aws_sqs_queue.this.arn
}

output "queue_url" {
  description = "URL of the delivery queue."
  value       = aws_sqs_queue.this.url
}

output "queue_policy_id" {
  description = "Id of the policy that lets the bucket send to the queue (the notification waits for it)."
  value       = aws_sqs_queue_policy.this.id
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue: notifications that kept failing."
  value       = aws_sqs_queue.dead_letter.url
}

output "alarm_arns" {
  description = "ARNs of the two queue alarms, by alarm name."
  value = {
    (aws_cloudwatch_metric_alarm.oldest_message.alarm_name) = aws_cloudwatch_metric_alarm.oldest_message.arn
    (aws_cloudwatch_metric_alarm.dead_letter.alarm_name)    = aws_cloudwatch_metric_alarm.dead_letter.arn
  }
}
