output "function_name" {
  description = "Name of the Lambda function."
  value       = module.pigeon.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = module.pigeon.function_arn
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = module.pigeon.role_arn
}

output "secret_arn" {
  description = "ARN of the broker secret: set its value out of band (docs/deploy.md); scripts/deploy.sh opens the traffic gate once it has one."
  value       = module.pigeon.secret_arn
}

output "failure_queue_url" {
  description = "The on-failure queue of events Lambda gave up on."
  value       = module.pigeon.failure_queue_url
}

output "delivery_queue_url" {
  description = "With delivery = sqs: the delivery queue; null with direct delivery."
  value       = module.pigeon.delivery_queue_url
}

output "dead_letter_queue_url" {
  description = "With delivery = sqs: notifications that kept failing, to redrive; null with direct delivery."
  value       = module.pigeon.dead_letter_queue_url
}

output "alarm_arns" {
  description = "Every CloudWatch alarm's ARN, by alarm name."
  value       = module.pigeon.alarm_arns
}

output "dashboard_url" {
  description = "Datadog dashboard, when datadog_enabled; else null."
  value       = module.pigeon.dashboard_url
}

output "bucket_notification_entries" {
  description = "Ids of the entries written to the bucket's notification configuration; empty: the bucket is not touched."
  value       = module.pigeon.bucket_notification_entries
}

output "traffic_enabled" {
  description = "Whether events reach the function (the traffic gate this apply used)."
  value       = module.pigeon.traffic_enabled
}
