#!/usr/bin/env bash
# Plan or apply one environment with a verified CI artifact (docs/deploy.md):
#   scripts/deploy.sh stage|prod plan|apply [--allow-destroy ADDRESS]… [-target=…]
#   scripts/deploy.sh stage plan --allow-unattested   a plan of a zip built here (never applied)
#   scripts/deploy.sh stage apply-saved               apply the plan `plan` saved (CI's apply job)
#   scripts/deploy.sh stage output [-raw secret_arn]  terraform output
#   scripts/deploy.sh stage setting region            a setting from stage.tfvars
# The checks are scripts/pigeon_tools/deploy (boto3 for the AWS reads): this runs them with the
# dev venv's Python (`make install`), or $PYTHON.
for arg in "$@"; do case "$arg" in -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; --) break ;; esac; done
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}
if ! [ -x "$python" ] && ! command -v "$python" >/dev/null 2>&1; then
  echo "deploy: $python is missing: run \`make install\` first" >&2
  exit 2
fi
export PYTHONPATH="$root/scripts${PYTHONPATH:+:$PYTHONPATH}"
exec "$python" -m pigeon_tools.deploy "$@"
