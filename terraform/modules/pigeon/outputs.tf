output "function_name" {
  description = "Name of the Lambda function."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = module.function.function_arn
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = module.function.role_arn
}

output "secret_arn" {
  description = "ARN of the broker secret: put its value out of band."
  value       = module.secrets.secret_arn
}

output "failure_queue_url" {
  description = "The on-failure queue, to inspect and redrive failed events."
  value       = module.function.failure_queue_url
}

output "alarm_arns" {
  description = "Every CloudWatch alarm's ARN by its name: the function's, and with delivery = sqs the delivery queue's."
  value       = merge(module.alarms.alarm_arns, try(module.sqs_delivery[0].alarm_arns, {}))
}

output "dashboard_url" {
  description = "Datadog dashboard URL, when Datadog is enabled."
  value       = try(module.datadog[0].dashboard_url, null)
}

output "delivery_queue_url" {
  description = "With delivery = sqs: the delivery queue."
  value       = try(module.sqs_delivery[0].queue_url, null)
}

output "dead_letter_queue_url" {
  description = "With delivery = sqs: notifications that kept failing, to redrive."
  value       = try(module.sqs_delivery[0].dead_letter_queue_url, null)
}

output "bucket_notification_entries" {
  description = "Ids of the entries the bucket's notification configuration is given (Pigeon's first when the gate lets it); empty: the bucket is not touched."
  value       = module.bucket_notification.entry_ids
}

output "traffic_enabled" {
  description = "Whether events reach the function: Pigeon's notification entry is written (direct), or the event source mapping polls (sqs)."
  value       = var.traffic_enabled
}
