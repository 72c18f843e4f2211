#!/usr/bin/env bash
# Lock the providers of the environments root, of every module (each is a root for
# `terraform test`) and of every example root, for every platform deploys and developers use.
# Needs the Terraform registry: run by the terraform-lock workflow, which opens a pull request
# with the result. `providers lock` reads the whole configuration, modules included, so each
# directory's modules are installed first (`terraform get`: local modules, nothing downloaded).
for arg in "$@"; do case "$arg" in -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; --) break ;; esac; done
set -euo pipefail
cd "$(dirname "$0")/../terraform"
command -v terraform >/dev/null || { echo "terraform_lock: terraform is not installed" >&2; exit 2; }
dirs=(environments modules/*)
for example in examples/*; do [ -d "$example" ] && dirs+=("$example"); done
for dir in "${dirs[@]}"; do
  echo "terraform_lock: $dir"
  if ! terraform -chdir="$dir" get -no-color; then
    echo "terraform_lock: FAILED in terraform/$dir: terraform get could not install its modules (above)" >&2
    exit 1
  fi
  if ! terraform -chdir="$dir" providers lock -no-color \
      -platform=linux_amd64 -platform=linux_arm64 -platform=darwin_amd64 -platform=darwin_arm64; then
    echo "terraform_lock: FAILED in terraform/$dir: terraform providers lock (above)" >&2
    exit 1
  fi
done
