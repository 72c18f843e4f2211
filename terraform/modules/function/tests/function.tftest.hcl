mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { region = "us-west-2" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  name                        = "pigeon-test"
  env                         = "test"
  zip_path                    = "tests/fixtures/pigeon.zip"
  zip_sha256_path             = "tests/fixtures/pigeon.zip.sha256"
  queues                      = "socorro.normal,15:socorro.submitter"
  rabbitmq_secret_arn         = "arn:aws:secretsmanager:us-west-2:123456789012:secret:pigeon-test/rabbitmq-AbCdEf"
  rabbitmq_secret_kms_key_arn = "arn:aws:kms:us-west-2:123456789012:key/00000000-0000-0000-0000-000000000000"
}

run "function_is_configured_from_the_build" {
  command = apply

  assert {
    condition     = aws_lambda_function.this.runtime == "python3.13" && aws_lambda_function.this.handler == "pigeon.handler.handler"
    error_message = "runtime and handler"
  }
  assert {
    condition     = aws_lambda_function.this.source_code_hash == "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    error_message = "source_code_hash must come from the build's .sha256 file"
  }
  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 10
    error_message = "reserved concurrency protects the broker's connection limit"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables["PIGEON_RABBITMQ_SECRET_ARN"] == var.rabbitmq_secret_arn && aws_lambda_function.this.environment[0].variables["PIGEON_QUEUES"] == var.queues
    error_message = "the function gets the secret ARN and the queues"
  }
  assert {
    condition     = length(aws_iam_role_policy_attachment.vpc) == 0 && length(aws_lambda_function.this.vpc_config) == 0
    error_message = "no VPC, no ENI permissions"
  }
}

run "iam_statements_are_scoped_to_arns" {
  command = apply

  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.permissions.statement : !contains(s.resources, "*")])
    error_message = "no statement may have Resource *"
  }
  assert {
    condition     = toset(flatten([for s in data.aws_iam_policy_document.permissions.statement : s.resources if contains(s.actions, "secretsmanager:GetSecretValue")])) == toset([var.rabbitmq_secret_arn])
    error_message = "GetSecretValue on the one secret only"
  }
  assert {
    condition     = toset(flatten([for s in data.aws_iam_policy_document.permissions.statement : s.resources if contains(s.actions, "kms:Decrypt")])) == toset([var.rabbitmq_secret_kms_key_arn])
    error_message = "kms:Decrypt on the secret's key only"
  }
  assert {
    condition     = toset(flatten([for s in data.aws_iam_policy_document.permissions.statement : s.resources if contains(s.actions, "sqs:SendMessage")])) == toset([aws_sqs_queue.on_failure.arn])
    error_message = "SendMessage to the on-failure queue only"
  }
}

run "failed_events_go_to_an_encrypted_queue" {
  command = apply

  assert {
    condition     = aws_lambda_function_event_invoke_config.this.destination_config[0].on_failure[0].destination == aws_sqs_queue.on_failure.arn
    error_message = "on-failure destination is the module's queue"
  }
  assert {
    condition     = aws_sqs_queue.on_failure.sqs_managed_sse_enabled && aws_sqs_queue.on_failure.message_retention_seconds == 1209600
    error_message = "the queue is encrypted and keeps messages 14 days"
  }
  assert {
    condition     = aws_lambda_function_event_invoke_config.this.maximum_retry_attempts == 2
    error_message = "Lambda retries twice"
  }
}

run "a_vpc_adds_the_eni_permissions" {
  command = apply

  variables {
    subnet_ids         = ["subnet-0123456789abcdef0"]
    security_group_ids = ["sg-0123456789abcdef0"]
  }

  assert {
    condition     = length(aws_iam_role_policy_attachment.vpc) == 1
    error_message = "ENI permissions with a VPC"
  }
}

run "bad_values_are_rejected" {
  command = plan

  variables {
    architecture = "sparc"
    timeout      = 901
  }

  expect_failures = [var.architecture, var.timeout]
}

run "dogstatsd_adds_the_datadog_extension_its_settings_and_its_key" {
  command = apply

  variables {
    metrics_sink               = "dogstatsd"
    datadog_api_key_secret_arn = "arn:aws:secretsmanager:us-west-2:123456789012:secret:datadog-api-key-AbCdEf"
    artifact_version           = "1.2.3"
  }

  assert {
    condition     = contains(aws_lambda_function.this.layers, "arn:aws:lambda:us-west-2:464622532012:layer:Datadog-Extension:${var.datadog_extension_version}")
    error_message = "the Datadog Lambda Extension layer of the region and architecture"
  }
  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables["DD_API_KEY_SECRET_ARN"] == var.datadog_api_key_secret_arn
      && aws_lambda_function.this.environment[0].variables["DD_SITE"] == "datadoghq.com"
      && aws_lambda_function.this.environment[0].variables["DD_ENV"] == "test"
      && aws_lambda_function.this.environment[0].variables["DD_SERVICE"] == "pigeon-test"
      && aws_lambda_function.this.environment[0].variables["DD_VERSION"] == "1.2.3"
    )
    error_message = "DD_API_KEY_SECRET_ARN, DD_SITE, DD_ENV, DD_SERVICE and DD_VERSION"
  }
  assert {
    condition     = contains(flatten([for s in data.aws_iam_policy_document.permissions.statement : s.resources if contains(s.actions, "secretsmanager:GetSecretValue")]), var.datadog_api_key_secret_arn)
    error_message = "the role reads the Datadog API key"
  }
}

run "dogstatsd_without_an_api_key_secret_is_refused" {
  command = plan

  variables {
    metrics_sink = "dogstatsd"
  }

  expect_failures = [var.datadog_api_key_secret_arn]
}

run "log_metrics_add_no_datadog_extension" {
  command = apply

  assert {
    condition     = length(aws_lambda_function.this.layers) == 0 && !contains(keys(aws_lambda_function.this.environment[0].variables), "DD_API_KEY_SECRET_ARN")
    error_message = "no extension, no DD_* without dogstatsd"
  }
}
