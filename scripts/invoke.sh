#!/usr/bin/env bash
# Invoke the built function with the event on stdin, in a real Lambda runtime.
#
#   scripts/generate_event.py --new-crash-id accept | scripts/invoke.sh
#   scripts/invoke.sh --event event.json
#
# Result on stdout; logs and START/END/REPORT on stderr. Exit 0 ok, 1 a function error,
# 2 usage (no event on stdin, or an empty one: nothing is invoked).
# Options:
#   --local | --docker    the runtime (default: Docker when an engine answers, else local;
#                         or set PIGEONTOOLS_INVOKE_MODE=local|docker)
#   --timeout SECONDS     function timeout (default 30)
#   --memory MB           memory size (default 256)
#   --event FILE          the event from a file instead of stdin
#   --env-file FILE       the function's environment (default: pigeon.env); the function's own
#                         settings in the caller's environment override it
# The broker: PIGEON_RABBITMQ_URL from the environment, else pigeon.env's, on the port
# `make broker` or `make run` chose (PIGEONTOOLS_RABBITMQ_PORT); a warning names it when
# nothing answers there.
for arg in "$@"; do case "$arg" in -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; --) break ;; esac; done
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
usage="usage: scripts/generate_event.py --new-crash-id accept | scripts/invoke.sh [--local|--docker] [options] (--help)"
[ -f "$root/build/pigeon/handler.py" ] || { echo "invoke.sh: error: build/ is missing; run make build" >&2; exit 2; }
[ -x "$root/.venv/bin/python" ] || { echo "invoke.sh: error: no .venv; run make install" >&2; exit 2; }

from_file= env_file=
for arg in "$@"; do
  case "$arg" in --event|--event=*) from_file=1 ;; --env-file|--env-file=*) env_file=1 ;; esac
done
if [ -z "$from_file" ]; then
  if [ -t 0 ]; then
    echo "invoke.sh: error: no event on stdin (it is a terminal)" >&2
    echo "$usage" >&2
    exit 2
  fi
  event=$(mktemp)
  trap 'rm -f "$event"' EXIT
  cat > "$event"
  if ! grep -q '[^[:space:]]' "$event"; then
    echo "invoke.sh: error: the event on stdin is empty; nothing invoked" >&2
    echo "$usage" >&2
    exit 2
  fi
  exec 0< "$event"  # the runtime reads it from here; the file itself can go
  rm -f "$event"
fi
if [ -z "$env_file" ]; then
  # The broker hand-run tools use (a warning on stderr when nothing answers there).
  url=$("$root/.venv/bin/python" "$root/scripts/rabbitmq.py" url)
  [ -z "$url" ] || export PIGEON_RABBITMQ_URL=$url
fi
# The mode: --local/--docker, else PIGEONTOOLS_INVOKE_MODE, else local_runtime.py's default.
exec "$root/.venv/bin/python" "$root/scripts/local_runtime.py" invoke --task-root "$root/build" "$@"
