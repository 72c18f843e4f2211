mock_provider "aws" {
  # Policies must be JSON: the provider checks them.
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  # ARNs the provider checks the form of.
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/pigeon-test-lambda" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:us-west-2:123456789012:pigeon-test-on-failure" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:us-west-2:123456789012:log-group:/aws/lambda/pigeon-test" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:us-west-2:123456789012:function:pigeon-test" }
  }
  mock_data "aws_region" {
    defaults = { region = "us-west-2" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  # In a VPC: every subnet and group in one VPC and one zone, groups that allow all egress, a
  # VPC with DNS on, an existing endpoint with private DNS. Runs override what they test.
  mock_data "aws_subnet" {
    defaults = { vpc_id = "vpc-0123456789abcdef0", availability_zone = "us-west-2a" }
  }
  mock_data "aws_security_group" {
    defaults = { vpc_id = "vpc-0123456789abcdef0" }
  }
  mock_data "aws_vpc_security_group_rules" {
    defaults = { ids = ["sgr-0123456789abcdef0"] }
  }
  mock_data "aws_vpc_security_group_rule" {
    defaults = { is_egress = true, ip_protocol = "-1", from_port = -1, to_port = -1 }
  }
  mock_data "aws_vpc" {
    defaults = { enable_dns_support = true, enable_dns_hostnames = true }
  }
  mock_data "aws_vpc_endpoint" {
    defaults = { id = "vpce-0123456789abcdef0", private_dns_enabled = true, state = "available" }
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
    condition     = output.reserved_concurrent_executions == null
    error_message = "unreserved by default: a new account's quota of 10 leaves nothing to reserve"
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
    vpc_subnet_ids         = ["subnet-0123456789abcdef0"]
    vpc_security_group_ids = ["sg-0123456789abcdef0"]
    vpc_egress             = "nat"
  }

  assert {
    condition     = length(aws_iam_role_policy_attachment.vpc) == 1
    error_message = "ENI permissions with a VPC"
  }
  assert {
    condition     = length(aws_security_group.this) == 0 && aws_lambda_function.this.vpc_config[0].security_group_ids == toset(["sg-0123456789abcdef0"])
    error_message = "your groups only, without create_security_group"
  }
}

run "subnets_without_security_groups_are_refused" {
  command = plan

  variables {
    vpc_subnet_ids = ["subnet-0123456789abcdef0"]
    vpc_egress     = "nat"
  }

  expect_failures = [var.create_security_group]
}

run "a_vpc_without_a_route_to_secrets_manager_is_refused" {
  command = plan

  variables {
    vpc_subnet_ids         = ["subnet-0123456789abcdef0"]
    vpc_security_group_ids = ["sg-0123456789abcdef0"]
  }

  expect_failures = [var.vpc_egress]
}

run "your_groups_must_allow_egress_on_443_and_the_broker_port" {
  command = plan

  variables {
    vpc_subnet_ids         = ["subnet-0123456789abcdef0"]
    vpc_security_group_ids = ["sg-0123456789abcdef0"]
    vpc_egress             = "nat"
  }

  # The group's only rule: egress on tcp 443. The broker's 5671 is missing.
  override_data {
    target = data.aws_vpc_security_group_rule.given
    values = { is_egress = true, ip_protocol = "tcp", from_port = 443, to_port = 443 }
  }

  expect_failures = [aws_lambda_function.this]
}

run "the_module_makes_a_group_with_exactly_the_egress_pigeon_needs" {
  command = apply

  variables {
    vpc_subnet_ids        = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
    create_security_group = true
    broker_cidr_blocks    = ["10.0.8.0/24"]
    vpc_egress            = "create_secretsmanager_endpoint"
  }

  assert {
    condition     = aws_security_group.this[0].vpc_id == "vpc-0123456789abcdef0"
    error_message = "the group is made in the subnets' VPC"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.https[0].from_port == 443 && aws_vpc_security_group_egress_rule.https[0].ip_protocol == "tcp"
    error_message = "egress on tcp 443"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.broker["10.0.8.0/24"].from_port == 5671 && aws_vpc_security_group_egress_rule.broker["10.0.8.0/24"].cidr_ipv4 == "10.0.8.0/24"
    error_message = "egress on the broker port to the broker only"
  }
  assert {
    condition     = aws_vpc_endpoint.secretsmanager[0].service_name == "com.amazonaws.us-west-2.secretsmanager" && aws_vpc_endpoint.secretsmanager[0].private_dns_enabled
    error_message = "an interface endpoint for Secrets Manager with private DNS"
  }
  assert {
    condition     = length(aws_vpc_endpoint.secretsmanager[0].subnet_ids) == 1
    error_message = "one subnet per Availability Zone (both subnets are in us-west-2a)"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.endpoint["0"].from_port == 443 && aws_vpc_security_group_ingress_rule.endpoint["0"].referenced_security_group_id == aws_security_group.this[0].id
    error_message = "only the function's group may use the endpoint"
  }
}

run "the_endpoint_needs_the_vpcs_dns_attributes" {
  command = plan

  variables {
    vpc_subnet_ids        = ["subnet-0123456789abcdef0"]
    create_security_group = true
    broker_cidr_blocks    = ["10.0.8.0/24"]
    vpc_egress            = "create_secretsmanager_endpoint"
  }

  override_data {
    target = data.aws_vpc.this
    values = { enable_dns_support = true, enable_dns_hostnames = false }
  }

  expect_failures = [aws_vpc_endpoint.secretsmanager]
}

run "an_existing_endpoint_without_private_dns_is_refused" {
  command = plan

  variables {
    vpc_subnet_ids         = ["subnet-0123456789abcdef0"]
    vpc_security_group_ids = ["sg-0123456789abcdef0"]
    vpc_egress             = "secretsmanager_endpoint"
  }

  override_data {
    target = data.aws_vpc_endpoint.secretsmanager
    values = { id = "vpce-0123456789abcdef0", private_dns_enabled = false, state = "available" }
  }

  expect_failures = [data.aws_vpc_endpoint.secretsmanager]
}

run "subnets_and_groups_of_two_vpcs_are_refused" {
  command = plan

  variables {
    vpc_subnet_ids         = ["subnet-0123456789abcdef0"]
    vpc_security_group_ids = ["sg-0123456789abcdef0"]
    vpc_egress             = "nat"
  }

  override_data {
    target = data.aws_security_group.given
    values = { vpc_id = "vpc-0fedcba9876543210" }
  }

  expect_failures = [aws_lambda_function.this]
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
      && aws_lambda_function.this.environment[0].variables["DD_SERVICE"] == "pigeon"
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

run "lambdas_environment_rules_are_checked_at_plan" {
  command = plan

  variables {
    environment_variables = { AWS_REGION = "us-east-1", PIGEON_QUEUES = "other" }
  }

  expect_failures = [var.environment_variables]
}

run "more_than_4_kb_of_environment_is_refused" {
  command = plan

  variables {
    environment_variables = { PIGEON_PADDING = join("", [for i in range(1000) : "xxxxx"]) }
  }

  expect_failures = [aws_lambda_function.this]
}

run "a_reservation_of_0_is_refused" {
  # 0 reserves nothing and throttles every invocation; null is unreserved.
  command = plan

  variables {
    reserved_concurrent_executions = 0
  }

  expect_failures = [var.reserved_concurrent_executions]
}
