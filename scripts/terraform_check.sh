#!/usr/bin/env bash
# What needs the Terraform CLI and provider downloads (GitHub Actions): fmt, then for every
# module and the environments root: init without a backend, validate, and the module's terraform tests.
set -euo pipefail
cd "$(dirname "$0")/../terraform"
command -v terraform >/dev/null || { echo "terraform_check: terraform is not installed" >&2; exit 2; }
terraform version
terraform fmt -check -recursive -diff .
for dir in modules/* environments; do
  echo "terraform_check: $dir"
  terraform -chdir="$dir" init -backend=false -input=false -no-color >/dev/null
  terraform -chdir="$dir" validate -no-color
  if [ -d "$dir/tests" ]; then terraform -chdir="$dir" test -no-color; fi
done
