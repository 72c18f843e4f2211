mock_provider "datadog" {}

variables {
  env             = "test"
  function_name   = "Pigeon-Test"
  notify          = ["@pagerduty-socorro"]
  traffic_enabled = true

  silence_window_minutes = 120
}

run "dashboard_and_monitors" {
  command = apply

  assert {
    condition     = length(datadog_dashboard.this.widget) == 7
    error_message = "one widget per series group"
  }
  assert {
    condition     = strcontains(datadog_monitor.publish_errors.query, "socorro.pigeon.publish_error{env:test}")
    error_message = "publish errors monitor"
  }
  assert {
    condition     = strcontains(datadog_monitor.accepted_stopped.query, "socorro.pigeon.accept{env:test}") && strcontains(datadog_monitor.accepted_stopped.query, "aws.lambda.invocations{functionname:pigeon-test}")
    error_message = "accepted-dropped-to-zero monitor, per invocation"
  }
  assert {
    condition     = strcontains(datadog_monitor.lambda_errors.message, "@pagerduty-socorro")
    error_message = "monitors notify"
  }
  assert {
    condition     = alltrue([for m in [datadog_monitor.publish_errors, datadog_monitor.accepted_stopped, datadog_monitor.lambda_errors] : contains(m.tags, "service:pigeon") && contains(m.tags, "env:test")])
    error_message = "unified service tagging: service:pigeon (the function's DD_SERVICE) and env:<env> (DD_ENV)"
  }
  assert {
    condition     = datadog_monitor.no_invocations[0].query == "sum(last_2h):sum:aws.lambda.invocations{functionname:pigeon-test}.as_count() < 1" && datadog_monitor.no_invocations[0].notify_no_data
    error_message = "silence: no invocations over the window, alerting on no data"
  }
}
