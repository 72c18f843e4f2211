#!/usr/bin/env bash
# pip-audit of exactly what ships: the locked main dependencies with their hashes. It asks a
# vulnerability database online, so it runs in GitHub Actions (ci.yml, lint job).
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=$(mktemp)
trap 'rm -f "$requirements"' EXIT
poetry=${POETRY:-$(scripts/bootstrap.sh)}
"$poetry" export --only main --format requirements.txt --output "$requirements"
scripts/tool_venv.sh "$(sed -n 's/^PIP_AUDIT := //p' Makefile)" pip-audit \
  --requirement "$requirements" --require-hashes --disable-pip --progress-spinner off --strict
