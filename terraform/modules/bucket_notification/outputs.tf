output "bucket_arn" {
  description = "ARN of the bucket whose notifications invoke the function."
  value       = local.bucket_arn
}

output "permission_statement_id" {
  description = "Statement id of the permission that lets S3 invoke the function."
  value       = aws_lambda_permission.s3.statement_id
}

output "destination" {
  description = "Where Pigeon's entry sends: function or queue."
  value       = var.destination
}

output "entry_ids" {
  description = "Ids of every entry the bucket's notification configuration is given (Pigeon's, when written, first); empty when the resource is not created."
  value       = [for e in local.entries : e.id]
}

output "pigeon_entry" {
  description = "Whether Pigeon's own entry is written (false: the traffic gate is closed with direct delivery)."
  value       = local.to_function || local.to_queue
}
