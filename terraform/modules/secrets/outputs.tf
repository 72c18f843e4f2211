output "secret_arn" {
  description = "ARN of the secret: the function module's rabbitmq_secret_arn."
  value       = aws_secretsmanager_secret.this.arn
}

output "kms_key_arn" {
  description = "ARN of the key that encrypts the secret: the function module's rabbitmq_secret_kms_key_arn."
  value       = aws_kms_key.this.arn
}
