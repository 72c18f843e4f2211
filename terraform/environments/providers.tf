provider "aws" {
  region = var.region

  # Each environment lives in its own account: prod's settings with stage's credentials (or
  # the reverse) fail before anything is read or changed.
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      Service     = "pigeon"
      Environment = var.env
      ManagedBy   = "terraform"
      Repository  = "pigeon"
    }
  }
}

# Keys only from the environment (DD_API_KEY, DD_APP_KEY: CI's secret store), never from a
# variable. Not validated when Datadog is off, so plans work without keys.
provider "datadog" {
  api_url  = var.datadog_api_url
  validate = var.datadog_enabled ? "true" : "false" # the provider takes a string
}
