#!/usr/bin/env bash
# pip-audit of exactly what ships: the same hashed export of the locked main dependencies that
# the build installs and the SBOM lists. It asks a vulnerability database online, so it runs in
# GitHub Actions (ci.yml, lint job).
for arg in "$@"; do case "$arg" in -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; --) break ;; esac; done
set -euo pipefail
cd "$(dirname "$0")/.."
# Each substitution on its own line: set -e stops on its failure (a test checks).
poetry=${POETRY:-}
if [ -z "$poetry" ]; then poetry=$(scripts/bootstrap.sh); fi
requirements=$(POETRY=$poetry .venv/bin/python scripts/build.py --print-export | tail -n 1)
pip_audit=$(sed -n 's/^PIP_AUDIT := //p' Makefile)
scripts/tool_venv.sh "$pip_audit" pip-audit \
  --requirement "$requirements" --require-hashes --disable-pip --progress-spinner off --strict
