# Prod: alarms page the on-call (alarm_actions must not be empty), more concurrency, longer logs.
env                            = "prod"
reserved_concurrency           = 20
log_retention_days             = 90
log_level                      = "INFO"
secret_recovery_window_in_days = 30
datadog_notify                 = ["@pagerduty-socorro"]
