# Stage: every non-secret setting of the environment, read the same way by CI and by a person
# (scripts/deploy.sh stage plan|apply). Secrets never go here: the broker's connection is in
# the Secrets Manager secret this root creates (docs/deploy.md), the Datadog keys are
# DD_API_KEY and DD_APP_KEY in CI's secret store.
#
# Lines marked EDIT hold example values: put your site's before the first deploy. The others
# are Pigeon's recommendations. Every variable must be set: terraform/environments has no
# defaults, so a missing line fails the plan instead of taking a value no one chose.

env        = "stage"
region     = "us-west-2"    # EDIT: the region of the crash bucket
account_id = "111111111111" # EDIT: stage's AWS account; credentials of any other are refused

bucket_name = "example-crashstats-stage-raw" # EDIT: the existing crash-report bucket
delivery    = "direct"                       # or "sqs": docs/operations.md, before switching
key_prefix  = "v2/raw_crash/"
event_names = ["s3:ObjectCreated:Put"]

# SNS topics the CloudWatch alarms notify (stage may page no one).
alarm_actions = ["arn:aws:sns:us-west-2:111111111111:socorro-stage-alerts"] # EDIT

# Datadog off until its keys are in CI's secret store: then datadog_enabled = true, and the
# metrics need a way there: the extension (metrics_sink = "dogstatsd" with
# datadog_api_key_secret_arn) or the Forwarder (metrics_sink = "log" with datadog_forwarder_arn).
datadog_enabled = false
datadog_notify  = ["@slack-socorro-stage"]
datadog_api_url = "https://api.datadoghq.com/"

# The silence alarm: no invocation for this long pages (stage may be quiet for hours).
silence_window_minutes = 240

secret_recovery_window_in_days = 7

# terraform/modules/function/README.md says what each one means and what it accepts.
function = {
  queues                         = "socorro.normal,15:socorro.submitter" # EDIT: PIGEON_QUEUES
  architecture                   = "x86_64"                              # as built: the deploy workflow takes CI's pigeon-x86_64
  memory_size                    = 256
  timeout                        = 30
  reserved_concurrent_executions = 5 # the most broker connections at once
  log_level                      = "DEBUG"

  metrics_sink                       = "log" # "dogstatsd": the Datadog extension
  datadog_api_key_secret_arn         = null  # with dogstatsd: arn:aws:secretsmanager:…:secret:datadog-api-key-…
  datadog_api_key_secret_kms_key_arn = null
  datadog_forwarder_arn              = null # with log: arn:aws:lambda:…:function:DatadogForwarder (docs/deploy.md, Datadog)
  datadog_site                       = "datadoghq.com"
  datadog_extension_version          = 105

  environment_variables = {}
  layers                = []

  # A private broker: subnets, and security groups or create_security_group, and vpc_egress
  # (docs/deploy.md, "What Terraform refuses").
  vpc_subnet_ids         = []
  vpc_security_group_ids = []
  create_security_group  = false
  broker_port            = 5671
  broker_cidr_blocks     = []
  vpc_egress             = null

  cloudwatch_logs_retention_in_days = 14
  maximum_retry_attempts            = 2
  maximum_event_age_in_seconds      = 21600
  failure_queue_retention_seconds   = 1209600
  # SnapStart: null (off), or { apply_on = "PublishedVersions" } (docs/deploy.md: when it
  # pays, what it costs).
  snap_start = null
}

# Used with delivery = "sqs" (terraform/modules/sqs_delivery/README.md).
sqs = {
  batch_size                         = 10
  maximum_batching_window_in_seconds = 0
  visibility_timeout_seconds         = null # six times the timeout plus the window
  max_receive_count                  = 5
  oldest_message_alarm_seconds       = 900
}

# The broker's capacity: the plan refuses a reserved_concurrent_executions whose connections (one
# per execution environment), with the other clients', exceed it (docs/deploy.md, sizing).
broker = {
  connection_limit            = null          # or the number, e.g. a RabbitMQ 4 broker's connection_max
  instance_type               = "mq.t3.micro" # EDIT: the Amazon MQ broker's instance type, or null
  other_connections           = 5             # EDIT: the processor and any other client's connections
  connections_per_environment = 1
}

# The bucket's entries that are not Pigeon's, and its EventBridge setting. The notification
# resource owns the bucket's WHOLE configuration: copy here what
#   aws s3api get-bucket-notification-configuration --bucket BUCKET
# shows (other than pigeon-raw-crash), or it is deleted; scripts/deploy.sh refuses a plan that
# would lose any. Empty for a bucket with no other notification.
bucket_notifications = {
  lambda_notifications = {}
  sqs_notifications    = {}
  sns_notifications    = {}
  eventbridge          = false
}
