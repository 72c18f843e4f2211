#!/usr/bin/env bash
# Print the id of the newest completed `ci` run of a push to main for a commit whose gate jobs
# (every job deploy-stage needs) succeeded, whatever deploy-stage did (needs gh, signed in): its
# artifact is what deploys. Pull-request runs of the same commit, and runs in progress, never count.
#   scripts/ci_run_for_commit.sh COMMIT_SHA
for arg in "$@"; do case "$arg" in -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; --) break ;; esac; done
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
export PYTHONPATH="$root/scripts${PYTHONPATH:+:$PYTHONPATH}"
exec "$python" -m pigeon_tools.deploy.ci_run "$@"
