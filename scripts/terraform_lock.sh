#!/usr/bin/env bash
# Lock the providers of the environments root, of every module (each is a root for
# `terraform test`) and of every example root, for every platform deploys and developers use.
# Needs the Terraform registry: run by the terraform-lock workflow, which opens a pull request
# with the result. `providers lock` reads the whole configuration, modules included, so each
# directory's modules are installed first (`terraform get`: local modules, nothing downloaded).
# Then every module and example must have locked each provider at the major the environments
# root (the one that deploys) locked: CI tests them with their own lock files, and a module
# whose constraint lets a new major in would be tested against a provider that never deploys it.
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

# "SOURCE MAJOR" for each provider of a lock file.
locked_majors() {
  awk '/^provider "/ { source = $2; gsub(/"/, "", source) }
       /^ *version *=/ { v = $3; gsub(/"/, "", v); split(v, part, "."); print source, part[1] }' "$1"
}
declare -A root_major=()
while read -r source major; do root_major[$source]=$major; done < <(locked_majors environments/.terraform.lock.hcl)
drifted=0
for dir in "${dirs[@]}"; do
  [ "$dir" = environments ] && continue
  while read -r source major; do
    want=${root_major[$source]:-}
    if [ -n "$want" ] && [ "$major" != "$want" ]; then
      echo "terraform_lock: FAILED in terraform/$dir: $source is locked at major $major, the environments root (what deploys) at $want: bound its version constraint in terraform/$dir to \">= MINIMUM, < $((want + 1)).0\" (CI would test it against a provider that never deploys it)" >&2
      drifted=1
    fi
  done < <(locked_majors "$dir/.terraform.lock.hcl")
done
[ "$drifted" = 0 ] || exit 1
