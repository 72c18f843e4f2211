# Stage: what prod runs, smaller, and its alarms page nobody.
env                            = "stage"
reserved_concurrency           = 5
log_retention_days             = 14
log_level                      = "DEBUG"
secret_recovery_window_in_days = 7
datadog_notify                 = ["@slack-socorro-stage"]
