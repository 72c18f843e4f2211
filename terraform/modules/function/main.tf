# The Pigeon function, its least-privilege role, log group, and asynchronous-invoke
# configuration with an encrypted on-failure queue: an event that still fails after Lambda's
# retries is kept there, never dropped. In a VPC: an optional security group with exactly the
# egress Pigeon needs, an optional interface endpoint for Secrets Manager, and plan-time checks
# of what Lambda and EC2 would otherwise refuse (or time out on) at apply or at init.

data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  vpc_enabled = length(var.vpc_subnet_ids) > 0
  dogstatsd   = var.metrics_sink == "dogstatsd"
  snap_start  = var.snap_start != null

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
    DD_SERVICE            = var.service
    DD_VERSION            = var.artifact_version
  } : {}

  environment = merge(var.environment_variables, local.datadog_environment, local.pigeon_environment)
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Logs hold crash ids and S3 keys, no secrets; the service-owned key is enough.
  #checkov:skip=CKV_AWS_338:Operational logs for a queue feeder; retention is a variable (default 30 days).
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.cloudwatch_logs_retention_in_days
  tags              = var.tags
}

# metrics_sink = "log" reaches Datadog through the Datadog Forwarder: every line of the log
# group (the metrics' MONITORING lines among them) goes to it.
resource "aws_cloudwatch_log_subscription_filter" "datadog" {
  count           = var.datadog_forwarder_arn == null ? 0 : 1
  name            = "${var.name}-datadog-forwarder"
  log_group_name  = aws_cloudwatch_log_group.this.name
  filter_pattern  = ""
  destination_arn = var.datadog_forwarder_arn
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
  #checkov:skip=CKV_AWS_117:VPC is optional (vpc_subnet_ids); a public broker such as Amazon MQ over TLS needs none.
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
  reserved_concurrent_executions = var.reserved_concurrent_executions
  layers                         = local.dogstatsd ? concat(var.layers, [local.datadog_layer]) : var.layers
  # SnapStart works only on published versions: each change publishes one (the alias below).
  publish = local.snap_start

  dynamic "snap_start" {
    for_each = local.snap_start ? [var.snap_start] : []
    content {
      apply_on = snap_start.value.apply_on
    }
  }

  environment {
    variables = local.environment
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  dynamic "vpc_config" {
    for_each = local.vpc_enabled ? [1] : []
    content {
      subnet_ids         = var.vpc_subnet_ids
      security_group_ids = concat(var.vpc_security_group_ids, aws_security_group.this[*].id)
    }
  }

  tags = var.tags

  lifecycle {
    # https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html: "The total size
    # of all environment variables doesn't exceed 4 KB", measured as their JSON.
    precondition {
      condition     = local.environment_size <= 4096
      error_message = "The function's environment variables take ${local.environment_size} bytes as the JSON Lambda measures ({\"NAME\":\"value\",…}), and Lambda refuses more than 4096 (4 KB): shorten environment_variables, or the queues."
    }
    precondition {
      condition     = length(local.vpc_ids) <= 1
      error_message = "vpc_subnet_ids and vpc_security_group_ids are in more than one VPC (${join(", ", local.vpc_ids)}): Lambda takes subnets and security groups of one VPC only."
    }
    precondition {
      condition     = length(local.missing_egress_ports) == 0
      error_message = "No rule of vpc_security_group_ids allows egress on tcp ${join(" and ", [for p in local.missing_egress_ports : tostring(p)])}: the function needs 443 (Secrets Manager, the Datadog extension) and broker_port (the broker), else it times out at init. Add egress rules to a group, or set create_security_group = true (with broker_cidr_blocks)."
    }
  }

  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.this,
    aws_iam_role_policy_attachment.vpc,
  ]
}

# With SnapStart, events invoke this alias of the version just published: never $LATEST,
# which SnapStart does not apply to.
resource "aws_lambda_alias" "live" {
  count            = local.snap_start ? 1 : 0
  name             = "live"
  description      = "The published version events invoke (SnapStart applies to published versions only)"
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name = aws_lambda_function.this.function_name
  # Per qualifier: S3 invokes the alias with SnapStart, so its retries and on-failure queue
  # must be the alias's.
  qualifier                    = local.snap_start ? aws_lambda_alias.live[0].name : null
  maximum_retry_attempts       = var.maximum_retry_attempts
  maximum_event_age_in_seconds = var.maximum_event_age_in_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.on_failure.arn
    }
  }
}

# In a VPC ---------------------------------------------------------------------------------------
# What Lambda and EC2 check only at apply (or the function finds out at init, as a timeout) is
# read here at plan time: the subnets' and groups' VPC, the egress of your own security groups,
# the VPC's DNS attributes for the endpoint's private DNS, and an existing endpoint's private DNS.

data "aws_subnet" "this" {
  for_each = toset(var.vpc_subnet_ids)
  id       = each.key
}

data "aws_security_group" "given" {
  for_each = toset(var.vpc_security_group_ids)
  id       = each.key
}

# The egress rules of your own groups, checked when the module does not make its own group.
data "aws_vpc_security_group_rules" "given" {
  for_each = local.check_given_egress ? toset(var.vpc_security_group_ids) : toset([])

  filter {
    name   = "group-id"
    values = [each.key]
  }
}

data "aws_vpc_security_group_rule" "given" {
  for_each               = toset(flatten([for r in data.aws_vpc_security_group_rules.given : r.ids]))
  security_group_rule_id = each.key
}

locals {
  vpc_ids = distinct(concat(
    [for s in data.aws_subnet.this : s.vpc_id],
    [for g in data.aws_security_group.given : g.vpc_id],
  ))
  vpc_id = try(local.vpc_ids[0], null)

  # What Lambda measures against its 4 KB: the variables map as compact JSON, in bytes (its
  # refusal quotes it: "exceeded the 4KB limit. String measured: {"A":"b",…}"). Quotes, braces,
  # colons, commas and escapes count. jsonencode writes the same JSON, except that it also
  # writes <, > and & as \u003c, \u003e, \u0026 (6 bytes for 1), which are taken off again;
  # bytes are counted through base64, since length() counts characters.
  environment_json   = jsonencode(local.environment)
  environment_base64 = base64encode(local.environment_json)
  environment_size = (
    length(local.environment_base64) / 4 * 3 - length(regexall("=", local.environment_base64))
    -5 * length(regexall("[<>&]", join("", values(local.environment))))
  )

  check_given_egress = local.vpc_enabled && !var.create_security_group
  # Ports with no egress rule in your groups: empty when the module makes its own group.
  missing_egress_ports = local.check_given_egress ? [
    for port in distinct([443, var.broker_port]) : port
    if !anytrue([
      for r in values(data.aws_vpc_security_group_rule.given) :
      r.is_egress && (r.ip_protocol == "-1" || (contains(["tcp", "6"], r.ip_protocol) && r.from_port <= port && port <= r.to_port))
    ])
  ] : []

  security_group_ids = concat(var.vpc_security_group_ids, aws_security_group.this[*].id)

  # An interface endpoint takes one subnet per Availability Zone: the first of each zone.
  endpoint_subnet_ids = [
    for zone, ids in { for s in data.aws_subnet.this : s.availability_zone => s.id... } : sort(ids)[0]
  ]
  secretsmanager_service = "com.amazonaws.${data.aws_region.current.region}.secretsmanager"
}

resource "aws_security_group" "this" {
  count       = var.create_security_group ? 1 : 0
  name_prefix = "${var.name}-"
  description = "Pigeon ${var.name}: egress to Secrets Manager and Datadog (443) and the broker only"
  vpc_id      = local.vpc_id
  tags        = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "https" {
  count             = var.create_security_group ? 1 : 0
  security_group_id = aws_security_group.this[0].id
  description       = "Secrets Manager (the broker secret) and the Datadog extension"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "broker" {
  for_each          = var.create_security_group ? toset(var.broker_cidr_blocks) : toset([])
  security_group_id = aws_security_group.this[0].id
  description       = "The RabbitMQ broker"
  ip_protocol       = "tcp"
  from_port         = var.broker_port
  to_port           = var.broker_port
  cidr_ipv4         = each.key
  tags              = var.tags
}

# vpc_egress = "create_secretsmanager_endpoint": an interface endpoint with private DNS, so the
# SDK's default Secrets Manager host resolves to it; only the function's groups may use it.
data "aws_vpc" "this" {
  count = var.vpc_egress == "create_secretsmanager_endpoint" ? 1 : 0
  id    = local.vpc_id
}

resource "aws_security_group" "endpoint" {
  count       = var.vpc_egress == "create_secretsmanager_endpoint" ? 1 : 0
  name_prefix = "${var.name}-secretsmanager-"
  description = "Secrets Manager endpoint of Pigeon ${var.name}: https from the function only"
  vpc_id      = local.vpc_id
  tags        = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "endpoint" {
  # Keyed by position, so the keys are known before the groups exist.
  for_each                     = var.vpc_egress == "create_secretsmanager_endpoint" ? { for i, g in local.security_group_ids : tostring(i) => g } : {}
  security_group_id            = aws_security_group.endpoint[0].id
  description                  = "https from the Pigeon function"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = each.value
  tags                         = var.tags
}

resource "aws_vpc_endpoint" "secretsmanager" {
  count               = var.vpc_egress == "create_secretsmanager_endpoint" ? 1 : 0
  vpc_id              = local.vpc_id
  service_name        = local.secretsmanager_service
  vpc_endpoint_type   = "Interface"
  subnet_ids          = local.endpoint_subnet_ids
  security_group_ids  = [aws_security_group.endpoint[0].id]
  private_dns_enabled = true
  tags                = merge(var.tags, { Name = "${var.name}-secretsmanager" })

  lifecycle {
    precondition {
      condition     = data.aws_vpc.this[0].enable_dns_support && data.aws_vpc.this[0].enable_dns_hostnames
      error_message = "The endpoint's private DNS needs the VPC's DNS support and DNS hostnames on (EC2 refuses it otherwise): aws ec2 modify-vpc-attribute --vpc-id ${local.vpc_id} --enable-dns-support and --enable-dns-hostnames, or choose vpc_egress = \"nat\"."
    }
  }
}

# vpc_egress = "secretsmanager_endpoint": the VPC's own endpoint, which must have private DNS.
data "aws_vpc_endpoint" "secretsmanager" {
  count        = var.vpc_egress == "secretsmanager_endpoint" ? 1 : 0
  vpc_id       = local.vpc_id
  service_name = local.secretsmanager_service

  lifecycle {
    postcondition {
      condition     = self.private_dns_enabled && self.state == "available"
      error_message = "The VPC's Secrets Manager endpoint ${self.id} has private DNS off or is not available (${self.state}): the function would still resolve the public endpoint, which these subnets cannot reach. Turn private DNS on, or choose vpc_egress = \"create_secretsmanager_endpoint\" or \"nat\"."
    }
  }
}
