output "bucket_arn" {
  description = "ARN of the bucket whose notifications invoke the function."
  value       = local.bucket_arn
}

output "permission_statement_id" {
  description = "Statement id of the permission that lets S3 invoke the function."
  value       = aws_lambda_permission.s3.statement_id
}

output "destination" {
  description = "Where the notifications go: function or queue."
  value       = var.queue_arn == null ? "function" : "queue"
}
