# A dashboard and monitors for Pigeon, from the metric catalog of function/pigeon/metrics.py
# (tests/test_terraform.py checks that every catalog metric is shown and nothing else is used),
# next to the Lambda integration's metrics.

locals {
  env      = "env:${var.env}"
  function = "functionname:${lower(var.function_name)}"
  notify   = join(" ", var.notify)
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
      title   = "Publish errors (invocations that raised; Lambda retries them)"
      queries = { publish_error = "sum:socorro.pigeon.publish_error{${local.env}}.as_count()" }
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
    Pigeon could not get RabbitMQ to confirm crash ids. Lambda retries the events; those that
    still fail land on the on-failure SQS queue. Look at the function's logs for the error and
    the crash ids. ${local.notify}
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
