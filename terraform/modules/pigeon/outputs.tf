output "function_name" {
  description = "Name of the Lambda function."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = module.function.function_arn
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
  description = "CloudWatch alarm ARNs by name."
  value       = module.alarms.alarm_arns
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
