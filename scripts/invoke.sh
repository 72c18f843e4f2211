#!/usr/bin/env bash
# Invoke the built function with the event on stdin, in a real Lambda runtime.
#
#   scripts/generate_event.py --key v2/raw_crash/000/20180313/00007bd0-… | scripts/invoke.sh
#
# Result on stdout; logs and START/END/REPORT on stderr; exit 1 on a function error.
# Options:
#   --local | --docker    the runtime (default: Docker when an engine answers, else local;
#                         or set PIGEONTOOLS_INVOKE_MODE=local|docker)
#   --timeout SECONDS     function timeout (default 30)
#   --memory MB           memory size (default 256)
#   --env-file FILE       the function's environment (default: pigeon.env); the function's own
#                         settings in the caller's environment override it
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-}" in -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
[ -f "$root/build/pigeon/handler.py" ] || { echo "invoke.sh: build/ is missing: run make build" >&2; exit 2; }
[ -x "$root/.venv/bin/python" ] || { echo "invoke.sh: no .venv: run make install" >&2; exit 2; }
export PIGEONTOOLS_INVOKE_MODE=${PIGEONTOOLS_INVOKE_MODE:-auto}
exec "$root/.venv/bin/python" "$root/scripts/local_runtime.py" invoke --task-root "$root/build" "$@"
