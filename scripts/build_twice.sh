#!/usr/bin/env bash
# Reproducibility gate: build from scratch twice (no cached export, dependency tree or import
# check between them) and compare the zip's sha256.
for arg in "$@"; do case "$arg" in -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; --) break ;; esac; done
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf build dist .cache/build
make --no-print-directory build "$@"
first=$(cat dist/pigeon.zip.sha256)
rm -rf build dist .cache/build
make --no-print-directory build "$@"
second=$(cat dist/pigeon.zip.sha256)
if [ "$first" != "$second" ]; then
  echo "reproducible: FAILED: two builds differ ($first vs $second)" >&2
  exit 1
fi
echo "reproducible: two builds gave the same bytes, base64 sha256 $second"
