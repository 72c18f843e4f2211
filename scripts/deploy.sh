#!/usr/bin/env bash
# Plan or apply one environment with the artifact in dist/ (verified first):
#   scripts/deploy.sh stage plan|apply
# Backend settings from TF_STATE_BUCKET, TF_STATE_REGION (and TF_STATE_KEY_PREFIX, default
# pigeon); Terraform variables from TF_VAR_* (bucket_name, alarm_actions, …). In GitHub
# Actions the plan also goes to the job summary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
env=${1:?usage: deploy.sh stage|prod plan|apply}
action=${2:?usage: deploy.sh stage|prod plan|apply}
dir=$root/terraform/environments/$env
[ -d "$dir" ] || { echo "deploy: no environment $env" >&2; exit 2; }
case "$action" in plan|apply) ;; *) echo "deploy: action must be plan or apply" >&2; exit 2 ;; esac
: "${TF_STATE_BUCKET:?set TF_STATE_BUCKET}" "${TF_STATE_REGION:?set TF_STATE_REGION}"

python=${PYTHON:-python3}
"$python" "$root/scripts/build.py" --verify-only "$root/dist/pigeon.zip"
echo "deploy: $env, artifact base64 sha256 $(cat "$root/dist/pigeon.zip.sha256")"

tf() { terraform -chdir="$dir" "$@"; }
tf init -input=false -backend-config="bucket=$TF_STATE_BUCKET" \
  -backend-config="key=${TF_STATE_KEY_PREFIX:-pigeon}/$env.tfstate" \
  -backend-config="region=$TF_STATE_REGION"
tf plan -input=false -out=tfplan -var "artifact_dir=$root/dist"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  {
    echo "### Terraform plan: $env"
    echo "Artifact base64 sha256: \`$(cat "$root/dist/pigeon.zip.sha256")\`"
    echo '<details><summary>plan</summary>'
    echo
    echo '```'
    tf show -no-color tfplan | tail -c 60000
    echo '```'
    echo '</details>'
  } >> "$GITHUB_STEP_SUMMARY"
fi
if [ "$action" = apply ]; then
  tf apply -input=false tfplan
fi
