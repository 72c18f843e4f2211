variable "name" {
  description = "Function name; also names the role, log group and on-failure queue."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.name))
    error_message = "name must be 1-56 letters, digits, - or _ (suffixes are added for the queue)."
  }
}

variable "zip_path" {
  description = "Path of the built artifact, dist/pigeon.zip."
  type        = string
}

variable "zip_sha256_path" {
  description = "Path of the artifact's base64 SHA-256 (dist/pigeon.zip.sha256), used as source_code_hash so an unchanged build plans no change."
  type        = string
}

variable "handler" {
  description = "The function's entry point."
  type        = string
  default     = "pigeon.handler.handler"
}

variable "architecture" {
  description = "Instruction set: x86_64 or arm64. Must match the build (make build ARCH=…)."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "memory_size" {
  description = "Memory in MB (128-10240); CPU scales with it."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be from 128 to 10240 MB."
  }
}

variable "timeout" {
  description = "Function timeout in seconds (1-900). Pigeon ends its broker waits at least a second before it."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be from 1 to 900 seconds."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions: the most broker connections Pigeon can open at once."
  type        = number
  default     = 10

  validation {
    condition     = var.reserved_concurrency >= 1
    error_message = "reserved_concurrency must be at least 1 (0 would stop the function)."
  }
}

variable "env" {
  description = "Environment tag, PIGEON_ENV (stage, prod, …)."
  type        = string
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

  validation {
    condition     = length(trimspace(var.key_prefix)) > 0
    error_message = "key_prefix must not be empty."
  }
}

variable "event_names" {
  description = "PIGEON_EVENT_NAMES: the S3 event types that count; the bucket notification's events must be the same (the pigeon module passes one value to both)."
  type        = list(string)
  default     = ["s3:ObjectCreated:Put"]

  validation {
    condition     = length(var.event_names) > 0 && alltrue([for e in var.event_names : startswith(e, "s3:ObjectCreated:")])
    error_message = "event_names must be S3 ObjectCreated event types such as s3:ObjectCreated:Put."
  }
}

variable "metrics_sink" {
  description = "PIGEON_METRICS: dogstatsd (the module adds the Datadog Lambda Extension and its API key), log (Datadog Forwarder) or none."
  type        = string
  default     = "log"

  validation {
    condition     = contains(["dogstatsd", "log", "none"], var.metrics_sink)
    error_message = "metrics_sink must be dogstatsd, log or none."
  }
}

variable "log_level" {
  description = "PIGEON_LOG_LEVEL."
  type        = string
  default     = "INFO"

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
}

variable "datadog_site" {
  description = "DD_SITE: the Datadog site the extension sends to."
  type        = string
  default     = "datadoghq.com"
}

variable "datadog_extension_version" {
  description = "Version of the Datadog Lambda Extension layer (Datadog-Extension, or -ARM for arm64), pinned."
  type        = number
  default     = 105
}

variable "artifact_version" {
  description = "DD_VERSION: the version of the deployed artifact (version.json of the build)."
  type        = string
  default     = "unknown"
}

variable "extra_environment" {
  description = "More environment variables (e.g. PIGEON_PUBLISH_TIMEOUT). Must not override the ones this module sets."
  type        = map(string)
  default     = {}
}

variable "layers" {
  description = "More layer ARNs; the Datadog Lambda Extension is added by the module with dogstatsd."
  type        = list(string)
  default     = []
}

variable "subnet_ids" {
  description = "Subnets for reaching a private broker; empty for no VPC."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  description = "Security groups when subnet_ids is set; they must allow egress to the broker (5671)."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Retention of the function's log group, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, …)."
  }
}

variable "maximum_retry_attempts" {
  description = "Lambda's retries of a failed asynchronous invocation (0-2)."
  type        = number
  default     = 2

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 2
    error_message = "maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "maximum_event_age_seconds" {
  description = "How long Lambda keeps retrying an event before it goes to the on-failure queue (60-21600)."
  type        = number
  default     = 21600

  validation {
    condition     = var.maximum_event_age_seconds >= 60 && var.maximum_event_age_seconds <= 21600
    error_message = "maximum_event_age_seconds must be from 60 to 21600."
  }
}

variable "failure_queue_retention_seconds" {
  description = "How long failed events stay on the on-failure SQS queue (60-1209600); the default, 14 days, is SQS's maximum."
  type        = number
  default     = 1209600

  validation {
    condition     = var.failure_queue_retention_seconds >= 60 && var.failure_queue_retention_seconds <= 1209600
    error_message = "failure_queue_retention_seconds must be from 60 to 1209600."
  }
}

variable "tags" {
  description = "Tags for every resource (on top of the provider's default tags)."
  type        = map(string)
  default     = {}
}

variable "delivery_queue_arn" {
  description = "With SQS delivery: the queue the function reads (the sqs_delivery module's queue_arn); the role may receive and delete its messages."
  type        = string
  default     = null
}
