variable "name" {
  description = "Function name; also names the role, log group, on-failure queue and security group."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.name))
    error_message = "name must be 1-56 letters, digits, - or _ (suffixes are added for the queue)."
  }
}

variable "zip_path" {
  description = "Path of the built artifact, pigeon.zip, relative to the root module (never absolute: it is stored in state)."
  type        = string
}

variable "zip_sha256_path" {
  description = "Path of the artifact's base64 SHA-256 (pigeon.zip.sha256), used as source_code_hash so an unchanged build plans no change."
  type        = string
}

variable "handler" {
  description = "The function's entry point."
  type        = string
  default     = "pigeon.handler.handler"
  nullable    = false
}

variable "architecture" {
  description = "Instruction set: x86_64 or arm64. Must match the build (make build ARCH=…)."
  type        = string
  default     = "x86_64"
  nullable    = false

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "memory_size" {
  description = "Memory in MB (128-10240); CPU scales with it."
  type        = number
  default     = 256
  nullable    = false

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "timeout" {
  description = "Function timeout in seconds (1-900). Pigeon ends its broker waits at least a second before it."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds from 1 to 900."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrent executions: the most environments, so broker connections, Pigeon runs at once. null (the default): unreserved, the function shares the account's unreserved pool (Lambda's -1). Lambda keeps 100 unreserved, or the whole quota when it is under 100 (a new account's is 10, so nothing can be reserved there): scripts/deploy.sh reads the account's concurrency (GetAccountSettings) and refuses a reservation Lambda would refuse."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrent_executions == null ? true : var.reserved_concurrent_executions >= 1 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions
    error_message = "reserved_concurrent_executions must be null (unreserved) or a whole number, at least 1: 0 reserves nothing and throttles every invocation, and -1 is the provider's spelling of null."
  }
}

variable "env" {
  description = "Environment: PIGEON_ENV (the env tag of every metric) and DD_ENV."
  type        = string
}

variable "service" {
  description = "DD_SERVICE: Datadog's unified service tag, the same in every environment (the environment is DD_ENV). The datadog module's monitors carry the same service tag."
  type        = string
  default     = "pigeon"
  nullable    = false
}

variable "queues" {
  description = "PIGEON_QUEUES: comma list of [PERCENT:]QUEUE, e.g. socorro.normal,15:socorro.submitter."
  type        = string

  # The grammar of the function's own parser (pigeon.parsers.QUEUE_ITEM); the tests check
  # that both accept exactly the same values.
  validation {
    condition     = alltrue([for q in split(",", var.queues) : can(regex("^[ \t\r\n]*(?:([0-9]{1,3})[ \t\r\n]*:)?[ \t\r\n]*([A-Za-z0-9_.\\-]{1,255})[ \t\r\n]*$", q))])
    error_message = "queues must be a comma list of [PERCENT:]QUEUE: a whole percent, a queue name of letters, digits, _, . or -."
  }

  validation {
    condition     = alltrue([for q in split(",", var.queues) : try(tonumber(regex("^[ \t\r\n]*([0-9]{1,3})[ \t\r\n]*:", q)[0]) <= 100, true)])
    error_message = "each PERCENT of queues must be from 0 to 100."
  }

  validation {
    condition     = length(distinct([for q in split(",", var.queues) : trimspace(element(split(":", q), length(split(":", q)) - 1))])) == length(split(",", var.queues))
    error_message = "a queue must not be listed twice in queues."
  }
}

variable "rabbitmq_secret_arn" {
  description = "ARN of the Secrets Manager secret with the broker connection JSON (the secrets module's secret_arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:", var.rabbitmq_secret_arn))
    error_message = "rabbitmq_secret_arn must be a Secrets Manager ARN."
  }
}

variable "rabbitmq_secret_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the secret (the secrets module's kms_key_arn); the role may decrypt with it, through Secrets Manager only."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.rabbitmq_secret_kms_key_arn))
    error_message = "rabbitmq_secret_kms_key_arn must be a KMS key ARN."
  }
}

variable "key_prefix" {
  description = "PIGEON_KEY_PREFIX: the prefix of raw-crash keys; the bucket notification's filter_prefix must be the same (the pigeon module passes one value to both)."
  type        = string
  default     = "v2/raw_crash/"
  nullable    = false

  validation {
    condition     = length(trimspace(var.key_prefix)) > 0
    error_message = "key_prefix must not be empty."
  }
}

variable "event_names" {
  description = "PIGEON_EVENT_NAMES: the S3 event types that count; the bucket notification's events must be the same (the pigeon module passes one value to both)."
  type        = list(string)
  default     = ["s3:ObjectCreated:Put"]
  nullable    = false

  validation {
    condition     = length(var.event_names) > 0 && alltrue([for e in var.event_names : startswith(e, "s3:ObjectCreated:")])
    error_message = "event_names must be S3 ObjectCreated event types such as s3:ObjectCreated:Put."
  }
}

variable "metrics_sink" {
  description = "PIGEON_METRICS: dogstatsd (the module adds the Datadog Lambda Extension and its API key), log (Datadog Forwarder) or none."
  type        = string
  default     = "log"
  nullable    = false

  validation {
    condition     = contains(["dogstatsd", "log", "none"], var.metrics_sink)
    error_message = "metrics_sink must be dogstatsd, log or none."
  }
}

variable "log_level" {
  description = "PIGEON_LOG_LEVEL."
  type        = string
  default     = "INFO"
  nullable    = false

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "datadog_api_key_secret_arn" {
  description = "With metrics_sink = dogstatsd: the Secrets Manager secret holding the Datadog API key (DD_API_KEY_SECRET_ARN); the role may read it."
  type        = string
  default     = null

  validation {
    condition     = var.metrics_sink != "dogstatsd" || var.datadog_api_key_secret_arn != null
    error_message = "metrics_sink = \"dogstatsd\" needs datadog_api_key_secret_arn: the Datadog extension reads its API key from that secret, and without it every metric is dropped."
  }

  validation {
    condition     = var.datadog_api_key_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:", var.datadog_api_key_secret_arn))
    error_message = "datadog_api_key_secret_arn must be a Secrets Manager ARN."
  }
}

variable "datadog_api_key_secret_kms_key_arn" {
  description = "The KMS key of the Datadog API key secret, if it is not the AWS-managed one: the role may decrypt with it, through Secrets Manager only."
  type        = string
  default     = null

  validation {
    condition     = var.datadog_api_key_secret_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.datadog_api_key_secret_kms_key_arn))
    error_message = "datadog_api_key_secret_kms_key_arn must be a KMS key ARN, or null for the AWS-managed key."
  }
}

variable "datadog_forwarder_arn" {
  description = "With metrics_sink = log: the Datadog Forwarder's Lambda ARN (installed once per account and region, from Datadog's CloudFormation stack or Terraform module, which lets CloudWatch Logs invoke it). The module subscribes the function's log group to it, so the metric lines reach Datadog. Null: no subscription, the lines stay in CloudWatch Logs."
  type        = string
  default     = null

  validation {
    condition     = var.datadog_forwarder_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+$", var.datadog_forwarder_arn))
    error_message = "datadog_forwarder_arn must be the Forwarder's Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME), without a version or alias."
  }
}

variable "datadog_site" {
  description = "DD_SITE: the Datadog site the extension sends to."
  type        = string
  default     = "datadoghq.com"
  nullable    = false
}

variable "datadog_extension_version" {
  description = "Version of the Datadog Lambda Extension layer (Datadog-Extension, or -ARM for arm64), pinned."
  type        = number
  default     = 105
  nullable    = false

  validation {
    condition     = var.datadog_extension_version >= 1 && floor(var.datadog_extension_version) == var.datadog_extension_version
    error_message = "datadog_extension_version must be a layer version number such as 105."
  }
}

variable "artifact_version" {
  description = "DD_VERSION: the version of the deployed artifact (version.json of the build)."
  type        = string
  default     = "unknown"
  nullable    = false
}

variable "environment_variables" {
  description = "More environment variables (e.g. PIGEON_PUBLISH_TIMEOUT). Lambda's rules apply: a key is a letter then letters, digits or _, none of Lambda's reserved keys, and all of them (with the module's) at most 4 KB. The module's own (PIGEON_ENV, DD_SITE, …) cannot be overridden here."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k in keys(var.environment_variables) : can(regex("^[a-zA-Z][a-zA-Z0-9_]+$", k)) || contains(["_HANDLER", "_X_AMZN_TRACE_ID"], k)])
    error_message = "environment_variables: Lambda refuses these keys (a key is a letter, then at least one letter, digit or _): ${join(", ", [for k in keys(var.environment_variables) : k if !can(regex("^[a-zA-Z][a-zA-Z0-9_]+$", k)) && !contains(["_HANDLER", "_X_AMZN_TRACE_ID"], k)])}."
  }

  # https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
  validation {
    condition     = length(setintersection(keys(var.environment_variables), ["_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ"])) == 0
    error_message = "environment_variables: Lambda reserves these keys and refuses the function: ${join(", ", sort(setintersection(keys(var.environment_variables), ["_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ"])))}: remove them."
  }

  # The names the module sets itself (locals pigeon_environment and datadog_environment; a test
  # keeps this list equal to them): set those through their own variables.
  validation {
    condition     = length(setintersection(keys(var.environment_variables), ["PIGEON_ENV", "PIGEON_QUEUES", "PIGEON_RABBITMQ_SECRET_ARN", "PIGEON_KEY_PREFIX", "PIGEON_EVENT_NAMES", "PIGEON_METRICS", "PIGEON_LOG_LEVEL", "DD_SITE", "DD_API_KEY_SECRET_ARN", "DD_ENV", "DD_SERVICE", "DD_VERSION"])) == 0
    error_message = "environment_variables must not set what the module sets from its own variables (env, queues, key_prefix, event_names, metrics_sink, log_level, datadog_site, service, …): ${join(", ", sort(setintersection(keys(var.environment_variables), ["PIGEON_ENV", "PIGEON_QUEUES", "PIGEON_RABBITMQ_SECRET_ARN", "PIGEON_KEY_PREFIX", "PIGEON_EVENT_NAMES", "PIGEON_METRICS", "PIGEON_LOG_LEVEL", "DD_SITE", "DD_API_KEY_SECRET_ARN", "DD_ENV", "DD_SERVICE", "DD_VERSION"])))}."
  }
}

variable "layers" {
  description = "More layer ARNs; the Datadog Lambda Extension is added by the module with dogstatsd. Lambda takes at most 5 layers in all."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = length(var.layers) + (var.metrics_sink == "dogstatsd" ? 1 : 0) <= 5
    error_message = "Lambda takes at most 5 layers: ${length(var.layers)} in layers${var.metrics_sink == "dogstatsd" ? " and the Datadog extension (metrics_sink = \"dogstatsd\")" : ""} are more. Remove some."
  }
}

variable "vpc_subnet_ids" {
  description = "Subnets for reaching a private broker, all in one VPC; empty for no VPC. In a VPC the function also needs security groups (vpc_security_group_ids or create_security_group) and a route to Secrets Manager (vpc_egress)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for s in var.vpc_subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "vpc_subnet_ids must be subnet ids (subnet-…)."
  }

  # https://docs.aws.amazon.com/lambda/latest/api/API_VpcConfig.html: SubnetIds, "Maximum
  # number of 16 items"; SecurityGroupIds, "Maximum number of 5 items".
  validation {
    condition     = length(var.vpc_subnet_ids) <= 16
    error_message = "Lambda takes at most 16 subnets in a function's VPC configuration, and vpc_subnet_ids has ${length(var.vpc_subnet_ids)}: keep one or two per Availability Zone."
  }
}

variable "vpc_security_group_ids" {
  description = "Your security groups for the function in the VPC. Without create_security_group they must allow egress on tcp 443 (Secrets Manager, Datadog) and on broker_port: the plan checks their rules."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for g in var.vpc_security_group_ids : can(regex("^sg-[0-9a-f]+$", g))])
    error_message = "vpc_security_group_ids must be security group ids (sg-…)."
  }

  validation {
    condition     = length(var.vpc_security_group_ids) == 0 || length(var.vpc_subnet_ids) > 0
    error_message = "vpc_security_group_ids without vpc_subnet_ids: Lambda refuses one without the other (\"SubnetIds and SecurityIds must coexist\"). Give the subnets too, or no security groups for a function outside a VPC."
  }
}

variable "create_security_group" {
  description = "In a VPC: the module makes a security group with egress on tcp 443 (Secrets Manager, the Datadog extension) and on broker_port to broker_cidr_blocks, and nothing else."
  type        = bool
  default     = false
  nullable    = false

  validation {
    condition     = !var.create_security_group || length(var.vpc_subnet_ids) > 0
    error_message = "create_security_group makes the group in the VPC of vpc_subnet_ids: give vpc_subnet_ids, or set create_security_group = false."
  }

  validation {
    condition     = length(var.vpc_subnet_ids) == 0 || length(var.vpc_security_group_ids) > 0 || var.create_security_group
    error_message = "Lambda refuses vpc_subnet_ids without security groups (\"SubnetIds and SecurityIds must coexist\"): give vpc_security_group_ids (groups that allow egress on tcp 443 and the broker port), or set create_security_group = true and broker_cidr_blocks, and the module makes one."
  }

  # https://docs.aws.amazon.com/lambda/latest/api/API_VpcConfig.html: SecurityGroupIds,
  # "Maximum number of 5 items", the module's own group included.
  validation {
    condition     = length(var.vpc_security_group_ids) + (var.create_security_group ? 1 : 0) <= 5
    error_message = "Lambda takes at most 5 security groups in a function's VPC configuration: ${length(var.vpc_security_group_ids)} in vpc_security_group_ids${var.create_security_group ? " and the module's own (create_security_group = true)" : ""} are more. Remove some."
  }
}

variable "broker_port" {
  description = "The broker's AMQP port (5671 for amqps, 5672 for amqp): the egress the function's security group must allow."
  type        = number
  default     = 5671
  nullable    = false

  validation {
    condition     = var.broker_port >= 1 && var.broker_port <= 65535 && floor(var.broker_port) == var.broker_port
    error_message = "broker_port must be a port from 1 to 65535."
  }
}

variable "broker_cidr_blocks" {
  description = "With create_security_group: the IPv4 CIDR blocks of the broker (e.g. the subnets of an Amazon MQ broker); the group allows egress on broker_port to them only."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for c in var.broker_cidr_blocks : can(cidrnetmask(c))])
    error_message = "broker_cidr_blocks must be IPv4 CIDR blocks such as 10.0.8.0/24."
  }

  validation {
    condition     = !var.create_security_group || length(var.broker_cidr_blocks) > 0
    error_message = "create_security_group makes a group with egress on broker_port to broker_cidr_blocks: give the broker's CIDR blocks, or the function cannot reach the broker."
  }
}

variable "vpc_egress" {
  description = "In a VPC, how the function reaches Secrets Manager (the broker secret, at init): nat (the subnets route to a NAT gateway; the Datadog extension needs this too), secretsmanager_endpoint (the VPC has an interface endpoint for Secrets Manager with private DNS; the plan checks it) or create_secretsmanager_endpoint (the module makes one). Null outside a VPC."
  type        = string
  default     = null

  validation {
    condition     = var.vpc_egress == null ? true : contains(["nat", "secretsmanager_endpoint", "create_secretsmanager_endpoint"], var.vpc_egress)
    error_message = "vpc_egress must be nat, secretsmanager_endpoint or create_secretsmanager_endpoint."
  }

  validation {
    condition     = length(var.vpc_subnet_ids) == 0 || var.vpc_egress != null
    error_message = "In a VPC the function reaches Secrets Manager only through a NAT gateway or an interface endpoint, else it times out at init: set vpc_egress = \"nat\" (the subnets route 0.0.0.0/0 to a NAT gateway), \"secretsmanager_endpoint\" (the VPC has an interface endpoint for Secrets Manager with private DNS) or \"create_secretsmanager_endpoint\" (the module makes one)."
  }

  validation {
    condition     = var.vpc_egress == null || length(var.vpc_subnet_ids) > 0
    error_message = "vpc_egress applies only in a VPC: give vpc_subnet_ids, or set vpc_egress = null."
  }

  validation {
    condition     = var.vpc_egress == null || var.vpc_egress == "nat" || var.metrics_sink != "dogstatsd"
    error_message = "The Datadog extension (metrics_sink = \"dogstatsd\") sends to Datadog's intake on the internet, which subnets without a NAT cannot reach: every metric would be lost. Route the subnets through a NAT gateway (vpc_egress = \"nat\"), or use metrics_sink = \"log\" (the Datadog Forwarder reads the metrics from CloudWatch Logs)."
  }
}

variable "cloudwatch_logs_retention_in_days" {
  description = "Retention of the function's log group, in days."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.cloudwatch_logs_retention_in_days)
    error_message = "cloudwatch_logs_retention_in_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, …)."
  }
}

variable "maximum_retry_attempts" {
  description = "Lambda's retries of a failed asynchronous invocation (0-2)."
  type        = number
  default     = 2
  nullable    = false

  validation {
    condition     = contains([0, 1, 2], var.maximum_retry_attempts)
    error_message = "maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "maximum_event_age_in_seconds" {
  description = "How long Lambda keeps retrying an event before it goes to the on-failure queue (60-21600)."
  type        = number
  default     = 21600
  nullable    = false

  validation {
    condition     = var.maximum_event_age_in_seconds >= 60 && var.maximum_event_age_in_seconds <= 21600
    error_message = "maximum_event_age_in_seconds must be from 60 to 21600."
  }
}

variable "failure_queue_retention_seconds" {
  description = "How long failed events stay on the on-failure SQS queue (60-1209600); the default, 14 days, is SQS's maximum."
  type        = number
  default     = 1209600
  nullable    = false

  validation {
    condition     = var.failure_queue_retention_seconds >= 60 && var.failure_queue_retention_seconds <= 1209600
    error_message = "failure_queue_retention_seconds must be from 60 to 1209600."
  }
}

variable "tags" {
  description = "Tags for every resource (on top of the provider's default tags)."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "delivery_queue_arn" {
  description = "With SQS delivery: the queue the function reads (the sqs_delivery module's queue_arn); the role may receive and delete its messages."
  type        = string
  default     = null
}

variable "snap_start" {
  description = "SnapStart: null (off, the default), or { apply_on = \"PublishedVersions\" }. On: every change publishes a version, the alias live points at it, and the notification or event source mapping invokes the alias; restored environments run Pigeon's runtime hooks (docs/deploy.md: when it is worth it, and what it costs)."
  type = object({
    apply_on = string
  })
  default = null

  validation {
    # Lambda's other value, None, is what null means here.
    condition     = var.snap_start == null || try(var.snap_start.apply_on == "PublishedVersions", false)
    error_message = "snap_start.apply_on must be PublishedVersions (leave snap_start null to turn SnapStart off)."
  }
}
