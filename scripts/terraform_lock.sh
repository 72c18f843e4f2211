#!/usr/bin/env bash
# Lock the providers of the environments root and of every module (each is a root for
# `terraform test`) for every platform deploys and developers use. Needs the Terraform
# registry: run by the terraform-lock workflow, which opens a pull request with the result.
set -euo pipefail
cd "$(dirname "$0")/../terraform"
command -v terraform >/dev/null || { echo "terraform_lock: terraform is not installed" >&2; exit 2; }
for dir in environments modules/*; do
  echo "terraform_lock: $dir"
  terraform -chdir="$dir" providers lock -no-color \
    -platform=linux_amd64 -platform=linux_arm64 -platform=darwin_amd64 -platform=darwin_arm64
done
