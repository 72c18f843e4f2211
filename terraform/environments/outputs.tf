output "function_name" {
  description = "Name of the Lambda function."
  value       = module.pigeon.function_name
}

output "secret_arn" {
  description = "ARN of the broker secret: set its value out of band (README, Deploy)."
  value       = module.pigeon.secret_arn
}

output "failure_queue_url" {
  description = "The on-failure queue of events Lambda gave up on."
  value       = module.pigeon.failure_queue_url
}

output "dashboard_url" {
  description = "Datadog dashboard, when enabled."
  value       = module.pigeon.dashboard_url
}

output "dead_letter_queue_url" {
  description = "With delivery = sqs: notifications that kept failing, to redrive."
  value       = module.pigeon.dead_letter_queue_url
}
