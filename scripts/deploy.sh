#!/usr/bin/env bash
# Plan or apply one environment with the artifact in dist/ (verified first):
#   scripts/deploy.sh stage plan|apply [more terraform plan options, e.g. -target=…]
#   scripts/deploy.sh stage output [terraform output options, e.g. -raw secret_arn]
# One Terraform root (terraform/environments) for every environment: <env>.tfvars holds what
# differs, <env>.local.tfvars (not committed) what only your site knows; TF_VAR_* work too.
# Backend settings from backend.hcl or TF_STATE_BUCKET and TF_STATE_REGION; the state key is
# ${TF_STATE_KEY_PREFIX:-pigeon}/<env>.tfstate. In GitHub Actions the plan also goes to the job
# summary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
usage="usage: deploy.sh stage|prod plan|apply|output [options…]"
env=${1:?$usage}
action=${2:?$usage}
shift 2
dir=$root/terraform/environments
[ -f "$dir/$env.tfvars" ] || { echo "deploy: no environment $env ($dir/$env.tfvars)" >&2; exit 2; }
case "$action" in plan|apply|output) ;; *) echo "deploy: action must be plan, apply or output" >&2; exit 2 ;; esac
export TF_DATA_DIR=$dir/.terraform/$env  # one .terraform folder per environment, with its state
tf() { terraform -chdir="$dir" "$@"; }
if [ "$action" = output ]; then tf output "$@"; exit; fi

python=${PYTHON:-python3}
"$python" "$root/scripts/build.py" --verify-only "$root/dist/pigeon.zip"
echo "deploy: $env, artifact base64 sha256 $(cat "$root/dist/pigeon.zip.sha256")"

backend=()
if [ -f "$dir/backend.hcl" ]; then backend+=(-backend-config=backend.hcl); else
  : "${TF_STATE_BUCKET:?set TF_STATE_BUCKET (or write terraform/environments/backend.hcl)}"
  : "${TF_STATE_REGION:?set TF_STATE_REGION (or write terraform/environments/backend.hcl)}"
  backend+=(-backend-config="bucket=$TF_STATE_BUCKET" -backend-config="region=$TF_STATE_REGION")
fi
backend+=(-backend-config="key=${TF_STATE_KEY_PREFIX:-pigeon}/$env.tfstate")
var_files=(-var-file="$env.tfvars")
[ -f "$dir/$env.local.tfvars" ] && var_files+=(-var-file="$env.local.tfvars")

tf init -input=false -reconfigure "${backend[@]}"
tf plan -input=false -out="$env.tfplan" "${var_files[@]}" -var "artifact_dir=$root/dist" "$@"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  {
    echo "### Terraform plan: $env"
    echo "Artifact base64 sha256: \`$(cat "$root/dist/pigeon.zip.sha256")\`"
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
