output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function (unqualified; events invoke target_arn)."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "The function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.this.name
}

# The settings below are the module's inputs after their defaults, not the function's
# attributes: the delivery queue and the alarms need them before the function exists.
output "timeout" {
  description = "The function timeout in seconds, for the duration alarm and the delivery queue's visibility timeout."
  value       = var.timeout
}

output "failure_queue_arn" {
  description = "ARN of the on-failure SQS queue that keeps events Lambda gave up on."
  value       = aws_sqs_queue.on_failure.arn
}

output "failure_queue_name" {
  description = "Name of the on-failure SQS queue, for its alarm."
  value       = aws_sqs_queue.on_failure.name
}

output "failure_queue_url" {
  description = "URL of the on-failure SQS queue, to read or redrive failed events."
  value       = aws_sqs_queue.on_failure.url
}

output "reserved_concurrent_executions" {
  description = "The function's reserved concurrency: the bound on broker connections (SQS delivery's maximum concurrency); null when unreserved."
  value       = var.reserved_concurrent_executions
}

output "security_group_id" {
  description = "The security group the module made (create_security_group), else null."
  value       = try(aws_security_group.this[0].id, null)
}

output "secretsmanager_endpoint_id" {
  description = "The Secrets Manager interface endpoint the module made (vpc_egress = create_secretsmanager_endpoint), else null."
  value       = try(aws_vpc_endpoint.secretsmanager[0].id, null)
}

output "architecture" {
  description = "The function's instruction set (x86_64 or arm64): the build deployed must match."
  value       = var.architecture
}

output "memory_size" {
  description = "The function's memory in MB."
  value       = var.memory_size
}

output "target_arn" {
  description = "What events invoke: the alias live's ARN (qualified) with SnapStart, else the function's ARN. The bucket notification and the event source mapping use it."
  value       = local.snap_start ? aws_lambda_alias.live[0].arn : aws_lambda_function.this.arn
}

output "qualifier" {
  description = "The alias events invoke with SnapStart (live), else null: the qualifier of S3's invoke permission."
  value       = local.snap_start ? aws_lambda_alias.live[0].name : null
}
