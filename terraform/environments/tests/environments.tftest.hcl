# The root as scripts/deploy.sh plans it, with mocked providers: the traffic gate, the
# relative artifact path, and the outputs deploy.sh reads.

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
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111111111111" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { region = "us-west-2" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:us-west-2:111111111111:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_secretsmanager_secret" {
    defaults = { arn = "arn:aws:secretsmanager:us-west-2:111111111111:secret:pigeon-stage/rabbitmq-AbCdEf" }
  }
}

mock_provider "datadog" {}

# What stage.tfvars says (tests/infra/test_terraform_environments.py checks the files
# themselves against every validation).
variables {
  env          = "stage"
  region       = "us-west-2"
  account_id   = "111111111111"
  bucket_name  = "example-crashstats-stage-raw"
  delivery     = "direct"
  key_prefix   = "v2/raw_crash/"
  event_names  = ["s3:ObjectCreated:Put"]
  artifact_dir = "tests/fixtures"

  # Required, as deploy.sh passes it on every plan: closed unless a run opens it.
  traffic_enabled = false

  alarm_actions   = ["arn:aws:sns:us-west-2:111111111111:socorro-stage-alerts"]
  datadog_enabled = false
  datadog_notify  = []
  datadog_api_url = "https://api.datadoghq.com/"

  silence_window_minutes         = 240
  secret_recovery_window_in_days = 7

  function = {
    queues                             = "socorro.normal,15:socorro.submitter"
    architecture                       = "x86_64"
    memory_size                        = 256
    timeout                            = 30
    reserved_concurrent_executions     = 5
    log_level                          = "DEBUG"
    metrics_sink                       = "log"
    datadog_api_key_secret_arn         = null
    datadog_api_key_secret_kms_key_arn = null
    datadog_forwarder_arn              = null
    datadog_site                       = "datadoghq.com"
    datadog_extension_version          = 105
    environment_variables              = {}
    layers                             = []
    vpc_subnet_ids                     = []
    vpc_security_group_ids             = []
    create_security_group              = false
    broker_port                        = 5671
    broker_cidr_blocks                 = []
    vpc_egress                         = null
    cloudwatch_logs_retention_in_days  = 14
    maximum_retry_attempts             = 2
    maximum_event_age_in_seconds       = 21600
    failure_queue_retention_seconds    = 1209600
  }

  sqs = {
    batch_size                         = 10
    maximum_batching_window_in_seconds = 0
    visibility_timeout_seconds         = null
    max_receive_count                  = 5
    oldest_message_alarm_seconds       = 900
  }

  broker = {
    connection_limit            = null
    instance_type               = "mq.t3.micro"
    other_connections           = 5
    connections_per_environment = 1
  }

  bucket_notifications = {
    lambda_notifications = {}
    sqs_notifications    = {}
    sns_notifications    = {}
    eventbridge          = false
  }
}

run "a_first_deploy_creates_no_notification" {
  # deploy.sh's preflight finds no secret value (no secret at all yet): the gate stays closed.
  command = plan

  variables {
    traffic_enabled = false
  }

  assert {
    condition     = output.bucket_notification_entries == [] && !output.traffic_enabled
    error_message = "a plan with the broker secret empty creates no notification"
  }
}

run "once_the_secret_has_a_value_the_notification_is_created" {
  command = apply

  variables {
    traffic_enabled = true
  }

  assert {
    condition     = output.bucket_notification_entries == ["pigeon-raw-crash"]
    error_message = "Pigeon's entry, and nothing else"
  }
  assert {
    condition     = output.function_arn != null && output.role_arn != null && output.secret_arn != null && output.failure_queue_url != null
    error_message = "the outputs deploy.sh and operators read"
  }
  assert {
    condition     = output.delivery_queue_url == null && output.dead_letter_queue_url == null && output.dashboard_url == null
    error_message = "no queue with direct delivery, no dashboard without Datadog"
  }
  assert {
    condition     = length(output.alarm_arns) == 7
    error_message = "the function's alarms"
  }
}

run "sqs_delivery_with_the_gate_closed_only_buffers" {
  command = plan

  variables {
    delivery = "sqs"
  }

  assert {
    condition     = output.bucket_notification_entries == ["pigeon-raw-crash"]
    error_message = "S3 sends to the queue, which keeps the notifications"
  }
}

run "an_absolute_artifact_dir_is_refused" {
  command = plan

  variables {
    artifact_dir = "/home/runner/work/pigeon/pigeon/dist"
  }

  expect_failures = [var.artifact_dir]
}
