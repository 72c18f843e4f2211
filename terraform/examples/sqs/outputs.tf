output "secret_arn" {
  description = "The broker secret: put its value, then apply again with traffic_enabled = true."
  value       = module.pigeon.secret_arn
}

output "function_arn" {
  description = "ARN of the function."
  value       = module.pigeon.function_arn
}

output "failure_queue_url" {
  description = "Events Lambda gave up on."
  value       = module.pigeon.failure_queue_url
}
