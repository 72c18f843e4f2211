terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0"
    }
    datadog = {
      source  = "DataDog/datadog"
      version = ">= 3.40, < 4.0"
    }
  }
}
