mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  # The key's policy must be JSON: the provider checks it.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:us-west-2:123456789012:key/00000000-0000-0000-0000-000000000000" }
  }
}

variables {
  name = "pigeon-test/rabbitmq"
}

run "secret_is_encrypted_with_its_own_rotating_key" {
  command = apply

  assert {
    condition     = aws_kms_key.this.enable_key_rotation
    error_message = "key rotation on"
  }
  assert {
    condition     = aws_secretsmanager_secret.this.kms_key_id == aws_kms_key.this.arn
    error_message = "the secret uses the module's key"
  }
  assert {
    condition     = output.kms_key_arn == aws_kms_key.this.arn && output.secret_arn == aws_secretsmanager_secret.this.arn
    error_message = "outputs for the function module"
  }
}

run "bad_recovery_window_is_rejected" {
  command = plan

  variables {
    recovery_window_in_days = 3
  }

  expect_failures = [var.recovery_window_in_days]
}
