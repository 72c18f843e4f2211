mock_provider "datadog" {}

variables {
  env           = "test"
  function_name = "Pigeon-Test"
  notify        = ["@pagerduty-socorro"]
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
}
