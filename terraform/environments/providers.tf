provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Service     = "pigeon"
      Environment = var.env
      ManagedBy   = "terraform"
      Repository  = "pigeon"
    }
  }
}

# Credentials from DD_API_KEY / DD_APP_KEY when the variables are empty. Not validated when
# Datadog is turned off, so plans work without keys.
provider "datadog" {
  api_key  = var.datadog_api_key
  app_key  = var.datadog_app_key
  api_url  = var.datadog_api_url
  validate = var.datadog_enabled
}
