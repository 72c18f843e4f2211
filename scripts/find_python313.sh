#!/usr/bin/env bash
# Print the path of a Python 3.13 interpreter, the version of the Lambda python3.13 runtime.
# Looks at $PIGEONTOOLS_PYTHON, python3.13 on PATH, pyenv, then the usual install places.
for arg in "$@"; do case "$arg" in -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; --) break ;; esac; done
set -euo pipefail

is_313() { [ -x "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; }

candidates=()
[ -n "${PIGEONTOOLS_PYTHON:-}" ] && candidates+=("$PIGEONTOOLS_PYTHON")
command -v python3.13 >/dev/null 2>&1 && candidates+=("$(command -v python3.13)")
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for d in "$root"/versions/3.13*; do candidates+=("$d/bin/python3.13"); done
fi
for d in "${HOME:-/root}"/.pyenv/versions/3.13*; do candidates+=("$d/bin/python3.13"); done
candidates+=(/usr/bin/python3.13 /usr/local/bin/python3.13 /opt/python3.13/bin/python3.13)

for c in "${candidates[@]}"; do
  # A pyenv shim answers for versions that are not installed: resolve it first.
  if is_313 "$c"; then
    "$c" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done

cat >&2 <<'MSG'
error: Python 3.13 was not found; Pigeon targets the Lambda python3.13 runtime.
  Install it, for example:
    Debian/Ubuntu:  sudo apt-get install python3.13 python3.13-venv   (Ubuntu 24.04+: deadsnakes PPA)
    pyenv:          pyenv install 3.13
  or point PIGEONTOOLS_PYTHON at a python3.13 binary.
MSG
exit 1
