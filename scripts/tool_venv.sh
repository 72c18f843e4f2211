#!/usr/bin/env bash
# Run a Python tool from its own venv under .cache/tools/<name>, installing it on first use.
# Tools that must not share the dev venv (checkov pins versions that conflict with boto3).
#   tool_venv.sh checkov==3.3.30 checkov -d terraform …
for arg in "$@"; do case "$arg" in -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; --) break ;; esac; done
set -euo pipefail
cd "$(dirname "$0")/.."
requirement=$1; shift
name=${requirement%%[=<>]*}
home=.cache/tools/$name
if ! [ -x "$home/bin/$1" ] || ! "$home/bin/python" -m pip show -q "$name" 2>/dev/null \
   || [ "$(cat "$home/.requirement" 2>/dev/null)" != "$requirement" ]; then
  echo "tools: installing $requirement into $home" >&2
  python=$(scripts/find_python313.sh)
  "$python" -m venv --clear "$home"
  "$home/bin/pip" install -q "$requirement" >&2
  echo "$requirement" > "$home/.requirement"
fi
tool=$1; shift
exec "$home/bin/$tool" "$@"
