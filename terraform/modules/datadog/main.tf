# A dashboard and monitors for Pigeon, from the metric catalog of function/pigeon/metrics.py
# (tests/test_terraform.py checks that every catalog metric is shown and nothing else is used),
# next to the Lambda integration's metrics.

locals {
  env      = "env:${var.env}"
  function = "functionname:${lower(var.function_name)}"
  notify   = join(" ", var.notify)
  # The silence window as a monitor's time window: last_30m, last_2h, last_1d.
  silence_window = (
    var.silence_window_minutes < 60 ? "last_${var.silence_window_minutes}m" :
    var.silence_window_minutes < 1440 ? "last_${var.silence_window_minutes / 60}h" : "last_1d"
  )
  # Unified service tagging: service is the same in every environment, env tells them apart.
  # The function sends the same pair (DD_SERVICE, DD_ENV and PIGEON_ENV's env tag).
  base_tags = concat(["service:${var.service}", local.env], var.tags)

  # title => queries; each query is one line on the widget
  pigeon_widgets = [
    {
      title = "Crashes: accepted and deferred (collector's throttle result)"
      queries = {
        accept = "sum:socorro.pigeon.accept{${local.env}}.as_count()"
        defer  = "sum:socorro.pigeon.defer{${local.env}}.as_count()"
      }
    },
    {
      title   = "Published (confirmed by RabbitMQ), per queue"
      queries = { published = "sum:socorro.pigeon.published{${local.env}} by {queue}.as_count()" }
    },
    {
      title   = "Throttled by queue percentage, per queue"
      queries = { throttled = "sum:socorro.pigeon.throttled{${local.env}} by {queue}.as_count()" }
    },
    {
      title = "Publish errors (invocations that failed), and SQS messages reported as failed"
      queries = {
        publish_error = "sum:socorro.pigeon.publish_error{${local.env}}.as_count()"
        item_failure  = "sum:socorro.pigeon.item_failure{${local.env}}.as_count()"
      }
    },
    {
      title = "Records: invalid and ignored"
      queries = {
        invalid = "sum:socorro.pigeon.invalid{${local.env}}.as_count()"
        ignored = "sum:socorro.pigeon.ignored{${local.env}}.as_count()"
      }
    },
    {
      title = "Lambda: invocations, errors, throttles"
      queries = {
        invocations = "sum:aws.lambda.invocations{${local.function}}.as_count()"
        errors      = "sum:aws.lambda.errors{${local.function}}.as_count()"
        throttles   = "sum:aws.lambda.throttles{${local.function}}.as_count()"
      }
    },
    {
      title = "Lambda: duration (avg and p99, ms)"
      queries = {
        avg = "avg:aws.lambda.duration{${local.function}}"
        p99 = "max:aws.lambda.duration.p99{${local.function}}"
      }
    },
  ]
}

resource "datadog_dashboard" "this" {
  title       = "Pigeon (${var.env})"
  description = "S3 raw-crash events to RabbitMQ. Managed by Terraform (terraform/modules/datadog)."
  layout_type = "ordered"

  dynamic "widget" {
    for_each = local.pigeon_widgets
    content {
      timeseries_definition {
        title = widget.value.title
        request {
          display_type = "bars"
          dynamic "formula" {
            for_each = widget.value.queries
            content {
              formula_expression = formula.key
            }
          }
          dynamic "query" {
            for_each = widget.value.queries
            content {
              metric_query {
                name  = query.key
                query = query.value
              }
            }
          }
        }
      }
    }
  }
}

resource "datadog_monitor" "publish_errors" {
  name    = "Pigeon ${var.env}: publish errors"
  type    = "query alert"
  query   = "sum(last_5m):sum:socorro.pigeon.publish_error{${local.env}}.as_count() > 0"
  message = <<-EOT
    Pigeon could not get RabbitMQ to confirm crash ids. Lambda retries them: with direct
    delivery the events that still fail land on the on-failure SQS queue; with SQS delivery the
    failed messages go back to the delivery queue, then to its dead-letter queue. Look at the
    function's logs for the error and the crash ids (docs/operations.md, "The broker is down for
    hours"). ${local.notify}
  EOT

  monitor_thresholds {
    critical = 0
  }
  notify_no_data      = false
  require_full_window = false
  tags                = local.base_tags
}

resource "datadog_monitor" "accepted_stopped" {
  name    = "Pigeon ${var.env}: no accepted crashes while the function runs"
  type    = "query alert"
  query   = "sum(${var.accepted_window}):default_zero(sum:socorro.pigeon.accept{${local.env}}.as_count()) / sum:aws.lambda.invocations{${local.function}}.as_count() <= 0"
  message = <<-EOT
    Pigeon is invoked but accepts no crash: check the key prefix, the collector's throttle
    result, and the invalid/ignored counts on the dashboard. ${local.notify}
  EOT

  monitor_thresholds {
    critical = 0
  }
  notify_no_data      = false
  require_full_window = false
  tags                = local.base_tags
}

# With SQS delivery the function reports failures per message and does not fail: the Lambda
# errors monitor stays quiet, this one does not.
resource "datadog_monitor" "item_failures" {
  name    = "Pigeon ${var.env}: SQS messages failed"
  type    = "query alert"
  query   = "sum(last_5m):sum:socorro.pigeon.item_failure{${local.env}}.as_count() > 0"
  message = <<-EOT
    With SQS delivery, Pigeon reported messages as failed (batchItemFailures): their crash ids
    were not confirmed, or the message cannot be read. SQS delivers them again, then moves them
    to the dead-letter queue. Look at the function's logs for the error and the crash ids.
    ${local.notify}
  EOT

  monitor_thresholds {
    critical = 0
  }
  notify_no_data      = false
  require_full_window = false
  tags                = local.base_tags
}

resource "datadog_monitor" "lambda_errors" {
  name    = "Pigeon ${var.env}: Lambda errors"
  type    = "query alert"
  query   = "sum(last_5m):sum:aws.lambda.errors{${local.function}}.as_count() > 0"
  message = <<-EOT
    The Pigeon function failed (init error, timeout or publish error). ${local.notify}
  EOT

  monitor_thresholds {
    critical = 0
  }
  notify_no_data      = false
  require_full_window = false
  tags                = local.base_tags
}

# Silence: no invocation at all. The accepted-stopped monitor divides by invocations, so zero
# invocations give it no data and it stays quiet; this one alerts on the missing data itself
# (Datadog's AWS integration writes no aws.lambda.invocations point when nothing ran).
# Only once the traffic gate is open: before that, the quiet is by design.
resource "datadog_monitor" "no_invocations" {
  count = var.traffic_enabled ? 1 : 0
  name  = "Pigeon ${var.env}: no invocations"
  type  = "query alert"
  # default_zero: no invocation is 0, not no data, so the monitor fires at the end of the
  # window; the no-data alert below stays as the backstop (the integration itself silent).
  query   = "sum(${local.silence_window}):default_zero(sum:aws.lambda.invocations{${local.function}}.as_count()) < 1"
  message = <<-EOT
    The Pigeon function has not been invoked for ${var.silence_window_minutes} minutes, while
    the bucket normally gets crashes: no event reaches it. Check the bucket's notification, the
    delivery queue's event source mapping and the traffic gate (docs/operations.md, "No crash
    arrives"), then backfill the gap. ${local.notify}
  EOT

  monitor_thresholds {
    critical = 1
  }
  # No data is the alert: after twice the window (Datadog's advice for a no-data timeframe),
  # and the AWS integration's metrics arrive late, so evaluation waits 15 minutes.
  notify_no_data      = true
  no_data_timeframe   = 2 * var.silence_window_minutes
  evaluation_delay    = 900
  require_full_window = false
  tags                = local.base_tags
}
