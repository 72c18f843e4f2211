# The Pigeon function, its least-privilege role, log group, and asynchronous-invoke
# configuration with an encrypted on-failure queue: an event that still fails after Lambda's
# retries is kept there, never dropped.

data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  vpc_enabled = length(var.subnet_ids) > 0
  dogstatsd   = var.metrics_sink == "dogstatsd"

  # Every PIGEON_* name here is a setting the function declares (tests/infra check it).
  pigeon_environment = {
    PIGEON_ENV                 = var.env
    PIGEON_QUEUES              = var.queues
    PIGEON_RABBITMQ_SECRET_ARN = var.rabbitmq_secret_arn
    PIGEON_KEY_PREFIX          = var.key_prefix
    PIGEON_EVENT_NAMES         = join(",", var.event_names)
    PIGEON_METRICS             = var.metrics_sink
    PIGEON_LOG_LEVEL           = var.log_level
  }

  # The Datadog Lambda Extension, with its API key read from Secrets Manager (docs:
  # https://docs.datadoghq.com/serverless/aws_lambda/installation/python/). Layers are
  # published by Datadog's account, another one in GovCloud.
  datadog_account = data.aws_partition.current.partition == "aws-us-gov" ? "002406178527" : "464622532012"
  datadog_layer = format(
    "arn:%s:lambda:%s:%s:layer:%s:%d",
    data.aws_partition.current.partition,
    data.aws_region.current.region,
    local.datadog_account,
    var.architecture == "arm64" ? "Datadog-Extension-ARM" : "Datadog-Extension",
    var.datadog_extension_version,
  )
  datadog_environment = local.dogstatsd ? {
    DD_SITE               = var.datadog_site
    DD_API_KEY_SECRET_ARN = var.datadog_api_key_secret_arn
    DD_ENV                = var.env
    DD_SERVICE            = var.name
    DD_VERSION            = var.artifact_version
  } : {}
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Logs hold crash ids and S3 keys, no secrets; the service-owned key is enough.
  #checkov:skip=CKV_AWS_338:Operational logs for a queue feeder; retention is a variable (default 30 days).
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_sqs_queue" "on_failure" {
  name                      = "${var.name}-on-failure"
  message_retention_seconds = var.failure_queue_retention_seconds
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-lambda"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "permissions" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  statement {
    sid       = "ReadBrokerSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.rabbitmq_secret_arn]
  }

  statement {
    sid       = "DecryptBrokerSecret"
    actions   = ["kms:Decrypt"]
    resources = [var.rabbitmq_secret_kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${data.aws_region.current.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "SendFailedEvents"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.on_failure.arn]
  }

  # With SQS delivery, Lambda reads the delivery queue with the function's role.
  dynamic "statement" {
    for_each = var.delivery_queue_arn == null ? [] : [1]
    content {
      sid       = "ReadDeliveryQueue"
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
      resources = [var.delivery_queue_arn]
    }
  }

  # With dogstatsd, the Datadog extension reads its API key with the function's role.
  dynamic "statement" {
    for_each = local.dogstatsd ? [1] : []
    content {
      sid       = "ReadDatadogApiKey"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [var.datadog_api_key_secret_arn]
    }
  }

  dynamic "statement" {
    for_each = local.dogstatsd && var.datadog_api_key_secret_kms_key_arn != null ? [1] : []
    content {
      sid       = "DecryptDatadogApiKey"
      actions   = ["kms:Decrypt"]
      resources = [var.datadog_api_key_secret_kms_key_arn]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["secretsmanager.${data.aws_region.current.region}.amazonaws.com"]
      }
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-lambda"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.permissions.json
}

# ENI management, only when the function runs in a VPC (AWS's managed policy for exactly this).
resource "aws_iam_role_policy_attachment" "vpc" {
  count      = local.vpc_enabled ? 1 : 0
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaENIManagementAccess"
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Failed async events go to an on-failure destination (SQS), which supersedes a DLQ.
  #checkov:skip=CKV_AWS_117:VPC is optional (subnet_ids); a public broker such as Amazon MQ over TLS needs none.
  #checkov:skip=CKV_AWS_173:The environment holds no secret, only the secret's ARN; AWS-managed encryption applies.
  #checkov:skip=CKV_AWS_272:Integrity comes from the reproducible build and source_code_hash; no signing profile.
  #checkov:skip=CKV_AWS_50:One broker round trip per invocation; latency is in REPORT lines and Datadog.
  function_name                  = var.name
  role                           = aws_iam_role.this.arn
  runtime                        = "python3.13"
  handler                        = var.handler
  architectures                  = [var.architecture]
  filename                       = var.zip_path
  source_code_hash               = trimspace(file(var.zip_sha256_path))
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrency
  layers                         = local.dogstatsd ? concat(var.layers, [local.datadog_layer]) : var.layers

  environment {
    variables = merge(var.extra_environment, local.datadog_environment, local.pigeon_environment)
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  dynamic "vpc_config" {
    for_each = local.vpc_enabled ? [1] : []
    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = var.security_group_ids
    }
  }

  tags = var.tags

  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.this,
    aws_iam_role_policy_attachment.vpc,
  ]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.maximum_retry_attempts
  maximum_event_age_in_seconds = var.maximum_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.on_failure.arn
    }
  }
}
