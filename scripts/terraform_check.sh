#!/usr/bin/env bash
# What needs the Terraform CLI and provider downloads (GitHub Actions): fmt, then for the
# environments root and every module: init without a backend and with the committed lock file
# read-only (the provider builds stage and prod run), validate, and the module's terraform tests.
for arg in "$@"; do case "$arg" in -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; --) break ;; esac; done
set -euo pipefail
cd "$(dirname "$0")/../terraform"
command -v terraform >/dev/null || { echo "terraform_check: terraform is not installed" >&2; exit 2; }
terraform version
terraform fmt -check -recursive -diff .
missing=()
for dir in environments modules/* examples/*; do
  [ -d "$dir" ] || continue
  echo "terraform_check: $dir"
  if [ -f "$dir/.terraform.lock.hcl" ]; then
    terraform -chdir="$dir" init -backend=false -input=false -no-color -lockfile=readonly >/dev/null
  else
    # Until the terraform-lock workflow's pull request is merged: say so, and check anyway.
    missing+=("$dir")
    echo "::warning file=terraform/$dir::no .terraform.lock.hcl: run the terraform-lock workflow and merge its pull request"
    terraform -chdir="$dir" init -backend=false -input=false -no-color >/dev/null
    rm -f "$dir/.terraform.lock.hcl"
  fi
  terraform -chdir="$dir" validate -no-color
  if [ -d "$dir/tests" ]; then terraform -chdir="$dir" test -no-color; fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "terraform_check: not locked yet: ${missing[*]} (deploys refuse an unlocked root)" >&2
fi
