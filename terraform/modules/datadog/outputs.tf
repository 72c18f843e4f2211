output "dashboard_url" {
  description = "URL of the dashboard."
  value       = datadog_dashboard.this.url
}

output "monitor_ids" {
  description = "Ids of the monitors, by purpose."
  value = {
    publish_errors   = datadog_monitor.publish_errors.id
    accepted_stopped = datadog_monitor.accepted_stopped.id
    lambda_errors    = datadog_monitor.lambda_errors.id
    item_failures    = datadog_monitor.item_failures.id
    no_invocations   = try(datadog_monitor.no_invocations[0].id, null)
  }
}
