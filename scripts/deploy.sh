#!/usr/bin/env bash
# Plan or apply one environment with the artifact in dist/, verified first:
#   scripts/deploy.sh stage plan|apply [more terraform plan options, e.g. -target=…]
#   scripts/deploy.sh stage plan --allow-unattested    a plan of a zip built here (never applied)
#   scripts/deploy.sh stage output [terraform output options, e.g. -raw secret_arn]
#
# Before any plan or apply, three checks, each refusing with what failed:
#   1. provenance: `gh attestation verify` says the zip (and its SBOM) were built and attested
#      by this repository's ci.yml in GitHub Actions (PIGEONTOOLS_REPOSITORY, else
#      GITHUB_REPOSITORY, names the repository);
#   2. the sha256 file matches the zip;
#   3. every build check (build.py --verify-only), the SBOM against the zip included.
# One Terraform root (terraform/environments) for every environment: <env>.tfvars holds what
# differs, <env>.local.tfvars (not committed) what only your site knows; TF_VAR_* work too.
# Backend settings from backend.hcl or TF_STATE_BUCKET and TF_STATE_REGION; the state key is
# ${TF_STATE_KEY_PREFIX:-pigeon}/<env>.tfstate. In GitHub Actions the plan also goes to the job
# summary.
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; esac
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
usage="usage: deploy.sh stage|prod plan|apply|output [--allow-unattested] [options…]"
env=${1:?$usage}
action=${2:?$usage}
shift 2
dir=${PIGEONTOOLS_TERRAFORM_ROOT:-$root/terraform/environments}
dist=${PIGEONTOOLS_ARTIFACT_DIR:-$root/dist}
[ -f "$dir/$env.tfvars" ] || { echo "deploy: no environment $env ($dir/$env.tfvars)" >&2; exit 2; }
case "$action" in plan|apply|output) ;; *) echo "deploy: action must be plan, apply or output" >&2; exit 2 ;; esac
export TF_DATA_DIR=$dir/.terraform/$env  # one .terraform folder per environment, with its state
tf() { terraform -chdir="$dir" "$@"; }
if [ "$action" = output ]; then tf output "$@"; exit; fi

unattested=
if [ "${1:-}" = --allow-unattested ]; then unattested=1; shift; fi
refuse() { echo "deploy: REFUSED, nothing planned or applied: $*" >&2; exit 1; }

# 1. Provenance.
if [ -n "$unattested" ]; then
  [ "$action" = plan ] || refuse "--allow-unattested is for plans only: an unattested zip is never applied"
  echo "deploy: PLAN ONLY: $dist/pigeon.zip is not checked for an attestation (built here); it can never be applied" >&2
else
  repo=${PIGEONTOOLS_REPOSITORY:-${GITHUB_REPOSITORY:-}}
  [ -n "$repo" ] || refuse "provenance: set PIGEONTOOLS_REPOSITORY=owner/name, the repository whose CI built the zip"
  command -v gh >/dev/null 2>&1 \
    || refuse "provenance: gh (the GitHub CLI) is not installed, so the zip's attestation cannot be checked"
  for subject in pigeon.zip pigeon.cdx.json; do
    [ -f "$dist/$subject" ] || refuse "provenance: $dist/$subject is missing"
    if ! gh attestation verify "$dist/$subject" --repo "$repo" \
        --signer-workflow "$repo/.github/workflows/ci.yml" >&2; then
      refuse "provenance: $subject has no valid attestation from $repo's ci.yml: built elsewhere, or changed after CI"
    fi
  done
  echo "deploy: provenance: pigeon.zip and its SBOM were built and attested by $repo's ci.yml"
fi

# 2. The sha256 file.
[ -f "$dist/pigeon.zip.sha256" ] || refuse "sha256: $dist/pigeon.zip.sha256 is missing"
actual=$(python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1], "rb").read()).digest()).decode())' "$dist/pigeon.zip")
[ "$actual" = "$(tr -d '[:space:]' < "$dist/pigeon.zip.sha256")" ] \
  || refuse "sha256: $dist/pigeon.zip does not match pigeon.zip.sha256: changed after it was built"

# 3. Every build check.
python=${PYTHON:-python3}
"$python" "$root/scripts/build.py" --verify-only "$dist/pigeon.zip" >&2 \
  || refuse "build checks: $dist/pigeon.zip fails them (above)"
echo "deploy: $env, artifact base64 sha256 $actual"

backend=()
if [ -f "$dir/backend.hcl" ]; then backend+=(-backend-config=backend.hcl); else
  : "${TF_STATE_BUCKET:?set TF_STATE_BUCKET (or write terraform/environments/backend.hcl)}"
  : "${TF_STATE_REGION:?set TF_STATE_REGION (or write terraform/environments/backend.hcl)}"
  backend+=(-backend-config="bucket=$TF_STATE_BUCKET" -backend-config="region=$TF_STATE_REGION")
fi
backend+=(-backend-config="key=${TF_STATE_KEY_PREFIX:-pigeon}/$env.tfstate")
var_files=(-var-file="$env.tfvars")
[ -f "$dir/$env.local.tfvars" ] && var_files+=(-var-file="$env.local.tfvars")

# The providers stage and prod run are the ones the lock file names (terraform-lock workflow).
[ -f "$dir/.terraform.lock.hcl" ] || refuse "providers: terraform/environments/.terraform.lock.hcl is not committed. \
Make it where the Terraform registry is reachable: run the terraform-lock workflow (Actions → \
terraform-lock → Run workflow) and merge its pull request, or run scripts/terraform_lock.sh and commit the file"
tf init -input=false -reconfigure -lockfile=readonly "${backend[@]}"
tf plan -input=false -out="$env.tfplan" "${var_files[@]}" -var "artifact_dir=$dist" "$@"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  {
    echo "### Terraform plan: $env"
    echo "Artifact base64 sha256: \`$actual\`"
    echo '<details><summary>plan</summary>'
    echo
    echo '```'
    tf show -no-color "$env.tfplan" | tail -c 60000
    echo '```'
    echo '</details>'
  } >> "$GITHUB_STEP_SUMMARY"
fi
if [ "$action" = apply ]; then
  tf apply -input=false "$env.tfplan"
fi
