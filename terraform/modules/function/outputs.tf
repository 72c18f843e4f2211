output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function (what the bucket notification invokes)."
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

output "timeout" {
  description = "The function timeout in seconds, for the duration alarm."
  value       = aws_lambda_function.this.timeout
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
