terraform {
  # 1.10: S3 backend locking with use_lockfile (no DynamoDB table).
  required_version = ">= 1.10.0"

  # Partial configuration: bucket, key and region come at init (README, Deploy):
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
