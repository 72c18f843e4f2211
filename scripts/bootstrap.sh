#!/usr/bin/env bash
# Install what the project needs to build and test, from scratch, idempotently:
# Python 3.13 (found, not installed), Poetry (only to export poetry.lock with its hashes), and
# the locked dev venv, installed by pip from that export with --require-hashes.
#
# Poetry's own installer is never used: it needs the per-release JSON API that many package
# indexes (company mirrors, PEP 503/691 simple-only ones) do not serve. Any index pip can use works.
# Prints the path of the poetry it uses as its last line.
for arg in "$@"; do case "$arg" in -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; --) break ;; esac; done
set -euo pipefail
cd "$(dirname "$0")/.."

POETRY_VERSION=2.5.1
EXPORT_VERSION=1.10.1

python=$(scripts/find_python313.sh)

if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "bootstrap: $python has no venv/ensurepip; on Debian/Ubuntu: apt-get install python3.13-venv" >&2
  exit 1
fi

poetry=${POETRY:-}
if [ -z "$poetry" ]; then
  poetry=$PWD/.cache/poetry/bin/poetry
  if ! "$poetry" --version 2>/dev/null | grep -q "version $POETRY_VERSION)" \
     || ! "$poetry" export --help >/dev/null 2>&1; then
    echo "bootstrap: installing Poetry $POETRY_VERSION (for poetry export only) into .cache/poetry" >&2
    "$python" -m venv --clear .cache/poetry
    .cache/poetry/bin/pip install -q "poetry==$POETRY_VERSION" \
      "poetry-plugin-export==$EXPORT_VERSION" >&2
  fi
fi

# Two `make` targets in two terminals: one sets up, the other waits for it.
mkdir -p .cache
exec 9>.cache/bootstrap.lock
flock 9

# The dev venv is (re)made when the lock, pyproject.toml, the interpreter or the checkout's
# place changed (a venv is not relocatable).
key=$(cat poetry.lock pyproject.toml <("$python" -VV) <(echo "$PWD") | sha256sum | cut -c1-16)
stamp=.venv/.pigeon-installed
if [ "$(cat "$stamp" 2>/dev/null)" != "$key" ]; then
  echo "bootstrap: installing the locked dev dependencies into .venv (Python $("$python" -V 2>&1 | cut -d' ' -f2), pip --require-hashes)" >&2
  requirements=.cache/requirements/dev-$key.txt
  mkdir -p .cache/requirements
  "$poetry" export --with dev --format requirements.txt --output "$requirements.partial" >&2
  mv "$requirements.partial" "$requirements"
  "$python" -m venv --clear .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes --no-deps \
    -r "$requirements" >&2
  # The tools import the function's own settings from function/, as an editable install would.
  site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
  echo "$PWD/function" > "$site/pigeon-function.pth"
  echo "$key" > "$stamp"
fi
echo "$poetry"
