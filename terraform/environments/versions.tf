terraform {
  # THE Terraform requirement of Pigeon: every module and example says the same (a test checks),
  # and docs/deploy.md shows it (generated). 1.11: S3 native state locking (use_lockfile) is
  # generally available; cross-variable validations need 1.9.
  required_version = ">= 1.11.0"

  # Partial configuration: bucket, key and region come at init (docs/deploy.md):
  #   scripts/deploy.sh stage plan (or: terraform init -backend-config=backend.hcl
  #   -backend-config=key=pigeon/stage.tfstate)
  backend "s3" {
    use_lockfile = true
    encrypt      = true
  }

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    datadog = {
      source  = "DataDog/datadog"
      version = "~> 3.40"
    }
  }
}
