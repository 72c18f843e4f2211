#!/usr/bin/env bash
# Smoke test of the built function in a Lambda runtime against a running RabbitMQ
# (make smoke; GitHub Actions runs it with --docker, on the Lambda runtime image):
#   1. accept, defer, an ignored key and a multi-record event are invoked;
#   2. the queue must hold exactly the accepted crash ids;
#   3. aimed at a broker that does not answer (a closed port), an invocation must fail with
#      Lambda's error JSON.
# It starts no broker and stops none: the one it uses (`make broker`, a system RabbitMQ, a
# cluster) is left as it was: its own queue smoke.PID is deleted at the end.
# Options: --docker | --local (as scripts/invoke.sh). The broker: PIGEON_RABBITMQ_URL, else
# pigeon.env's (on the port `make broker` chose).
for arg in "$@"; do case "$arg" in -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; --) break ;; esac; done
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=${PYTHON:-.venv/bin/python}
mode=${1:-}  # --local | --docker; none: the default invoke mode (PIGEONTOOLS_INVOKE_MODE, auto)
queue=smoke.$$
export PIGEON_QUEUES=$queue PIGEON_ENV=smoke

fail() { echo "smoke: FAILED: $*" >&2; exit 1; }
new_id() { $py scripts/generate_event.py --new-crash-id "$1" 2>&1 >/dev/null | sed -n "s/^$1 crash id: //p"; }
invoke() { scripts/invoke.sh ${mode:+"$mode"} --timeout 30 2>>"$logs"; }

logs=$(mktemp)
trap 'rm -f "$logs"; $py scripts/consume_queue.py --delete "$queue" 2>/dev/null || true' EXIT
$py scripts/consume_queue.py --declare "$queue"
$py scripts/consume_queue.py --purge "$queue"

accept=$(new_id accept); defer=$(new_id defer); a2=$(new_id accept); a3=$(new_id accept); d2=$(new_id defer)
expected=$(printf '%s\n' "$accept" "$a2" "$a3")

echo "smoke: invoking accept, defer, ignored, multi-record (${mode:-the default mode})"
$py scripts/generate_event.py --crash-id "$accept" | invoke >/dev/null || fail "accept event"
$py scripts/generate_event.py --crash-id "$defer" | invoke >/dev/null || fail "defer event"
$py scripts/generate_event.py --key "v1/dump/$accept" | invoke >/dev/null || fail "ignored key"
$py scripts/generate_event.py --crash-id "$a2" --crash-id "$d2" --key junk --crash-id "$a3" \
  | invoke >/dev/null || fail "multi-record event"

got=$($py scripts/consume_queue.py "$queue" | sed 's/^item: //')
if [ "$got" != "$expected" ]; then
  printf 'expected:\n%s\ngot:\n%s\n' "$expected" "$got" >&2
  fail "the queue does not hold exactly the accepted ids"
fi
echo "smoke: queue $queue holds exactly the 3 accepted ids"

closed=$($py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "smoke: aiming at 127.0.0.1:$closed, where no broker answers; the invocation must fail"
set +e
result=$($py scripts/generate_event.py --crash-id "$accept" \
  | PIGEON_RABBITMQ_URL="amqp://guest:guest@127.0.0.1:$closed/%2F" PIGEON_PUBLISH_TIMEOUT=5 invoke)
status=$?
set -e
[ "$status" = 1 ] || fail "exit status $status with no broker answering, expected 1"
printf '%s' "$result" | $py -c '
import json, sys
error = json.load(sys.stdin)
assert {"errorMessage", "errorType", "stackTrace"} <= set(error), error
assert error["errorType"] == "PublishError", error
' || fail "not Lambda's error JSON: $result"
echo "smoke: no broker -> exit 1 with $(printf '%s' "$result" | cut -c1-120)…"
echo "smoke: passed"
