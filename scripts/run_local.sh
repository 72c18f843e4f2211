#!/usr/bin/env bash
# The main job, end to end on this machine (`make run` builds first):
# a broker, an event for a new accepted crash, one invocation of the built function in a real
# Lambda runtime, and the message found on the queue.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=.venv/bin/python

if [ -n "${PIGEON_RABBITMQ_URL:-}" ]; then
  # The caller names the broker (`make cluster` prints one): use it, start none.
  echo "run: using the broker(s) of PIGEON_RABBITMQ_URL"
else
  $py scripts/rabbitmq.py start
  if [ -n "${PIGEONTOOLS_RABBITMQ_PORT:-}" ]; then
    # The broker is on another port than pigeon.env says: tell the function and the queue tool.
    export PIGEON_RABBITMQ_URL="amqp://guest:guest@127.0.0.1:$PIGEONTOOLS_RABBITMQ_PORT/%2F"
  fi
fi
queues=$($py scripts/consume_queue.py --names)
$py scripts/consume_queue.py --declare $queues
$py scripts/consume_queue.py --purge $queues

logs=$(mktemp)
trap 'rm -f "$logs"' EXIT
crash_id=$($py scripts/generate_event.py --new-crash-id accept 2>&1 >"$logs.event" | sed -n 's/^accept crash id: //p')
echo "run: event for a new accepted crash id $crash_id"
set +e
scripts/invoke.sh "$@" < "$logs.event" 2> "$logs" > "$logs.result"
status=$?
set -e
rm -f "$logs.event"
cat "$logs" >&2
echo "run: result (exit $status): $(cat "$logs.result")"
rm -f "$logs.result"
echo "run: $(grep -m1 '^REPORT' "$logs" || echo 'no REPORT line')"
for queue in $queues; do
  items=$($py scripts/consume_queue.py "$queue")
  echo "run: on $queue: ${items:-(nothing: throttled by its percentage, or not published)}"
done
exit "$status"
