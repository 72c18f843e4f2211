#!/usr/bin/env bash
# Print the id of the newest successful `ci` workflow run for a commit (needs gh and GH_TOKEN):
# prod deploys that run's artifact, the bytes stage already runs.
set -euo pipefail
commit=${1:?usage: ci_run_for_commit.sh COMMIT_SHA}
id=$(gh run list --workflow ci.yml --commit "$commit" --status success --limit 1 \
  --json databaseId --jq '.[0].databaseId // empty')
if [ -z "$id" ]; then
  echo "ci_run_for_commit: no successful ci run for $commit: wait for CI, or pass artifact-run-id" >&2
  exit 1
fi
echo "$id"
