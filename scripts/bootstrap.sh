#!/usr/bin/env bash
# Install what the project needs to build and test, from scratch, idempotently:
# Python 3.13 (found, not installed), Poetry (with the export plugin), and the locked dev venv.
# Prints the path of the poetry it uses as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

python=$(scripts/find_python313.sh)

if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "bootstrap: $python has no venv/ensurepip; on Debian/Ubuntu: apt-get install python3.13-venv" >&2
  exit 1
fi

poetry_works() { "$1" --version >/dev/null 2>&1 && "$1" export --help >/dev/null 2>&1; }

poetry=${POETRY:-}
if [ -z "$poetry" ] && command -v poetry >/dev/null 2>&1 && poetry_works poetry; then
  poetry=$(command -v poetry)
fi
if [ -z "$poetry" ]; then
  poetry=$PWD/.cache/poetry/bin/poetry
  if ! poetry_works "$poetry"; then
    echo "bootstrap: installing Poetry 2 with poetry-plugin-export into .cache/poetry" >&2
    "$python" -m venv --clear .cache/poetry
    .cache/poetry/bin/pip install -q "poetry>=2.1,<3" "poetry-plugin-export>=1.9,<2" >&2
  fi
fi

stamp=.venv/.pigeon-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ poetry.lock -nt "$stamp" ] \
   || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
  echo "bootstrap: installing the locked dev dependencies into .venv (Python $("$python" -V 2>&1 | cut -d' ' -f2))" >&2
  POETRY_VIRTUALENVS_IN_PROJECT=true "$poetry" env use -q "$python" >&2
  POETRY_VIRTUALENVS_IN_PROJECT=true "$poetry" install -q --no-root --with dev >&2
  touch "$stamp"
fi
echo "$poetry"
