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
#   --env-file FILE       the function's environment (default: pigeon.env); PIGEON_* variables
#                         in the caller's environment override it
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

mode=${PIGEONTOOLS_INVOKE_MODE:-auto}
timeout=30
memory=256
env_file=$root/pigeon.env
while [ $# -gt 0 ]; do
  case "$1" in
    --local) mode=local ;;
    --docker) mode=docker ;;
    --timeout) timeout=$2; shift ;;
    --memory) memory=$2; shift ;;
    --env-file) env_file=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "invoke.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

[ -f "$root/build/pigeon/handler.py" ] || { echo "invoke.sh: build/ is missing: run make build" >&2; exit 2; }
[ -f "$env_file" ] || { echo "invoke.sh: no env file $env_file" >&2; exit 2; }

docker_engine() { command -v docker >/dev/null 2>&1 && timeout 15 docker info >/dev/null 2>&1; }
if [ "$mode" = auto ]; then
  if docker_engine; then mode=docker; else mode=local; fi
fi

if [ "$mode" = local ]; then
  python=python3
  [ -x "$root/.venv/bin/python" ] && python=$root/.venv/bin/python
  exec "$python" "$root/scripts/local_runtime.py" invoke --task-root "$root/build" \
    --env-file "$env_file" --timeout "$timeout" --memory "$memory"
fi

if [ "$mode" != docker ]; then echo "invoke.sh: unknown mode $mode" >&2; exit 2; fi
docker_engine || { echo "invoke.sh: --docker, but no Docker engine answers" >&2; exit 2; }

# Docker mode: the Lambda runtime image and its emulator (RIE), build/ mounted at /var/task.
event=$(mktemp)
name=pigeon-lambda-run-$$
trap 'rm -f "$event"; docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
cat > "$event"
export PIGEONTOOLS_ENV_FILE=$env_file LAMBDA_TIMEOUT=$timeout LAMBDA_MEMORY=$memory
overrides=()  # the function's settings in the caller's environment win over the env file
for var in $("$root/.venv/bin/python" -c 'from pigeon.settings import NAMES; print(*sorted(NAMES))'); do
  [ -n "${!var+set}" ] && overrides+=(-e "$var")
done
docker compose -f "$root/docker-compose.yml" --profile lambda run -d --name "$name" \
  "${overrides[@]}" lambda-run >/dev/null
for _ in $(seq 1 60); do curl -s -o /dev/null http://127.0.0.1:8080/ && break; sleep 0.5; done
result=$(curl -sS -X POST --data-binary "@$event" \
  http://127.0.0.1:8080/2015-03-31/functions/function/invocations)
sleep 0.2
docker logs "$name" >&2 2>&1 || true
printf '%s\n' "$result"
# The emulator answers 200 with Lambda's error JSON when the function fails.
is_error='import json, sys
d = json.load(sys.stdin)
sys.exit(0 if isinstance(d, dict) and {"errorType", "errorMessage"} <= set(d) else 1)'
if printf '%s' "$result" | python3 -c "$is_error" 2>/dev/null; then exit 1; fi
