#!/usr/bin/env bash
# The main job, end to end on this machine (`make run` builds first):
# a broker, an event for a new accepted crash, one invocation of the built function in a real
# Lambda runtime, and the message found on the queue. The broker: PIGEON_RABBITMQ_URL when set
# (none is started), else `make broker`'s on PIGEONTOOLS_RABBITMQ_PORT (default 5672), left
# running for hand invokes (make broker-stop). Options go to scripts/invoke.sh (--docker).
for arg in "$@"; do case "$arg" in -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;; --) break ;; esac; done
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=.venv/bin/python

if [ -n "${PIGEON_RABBITMQ_URL:-}" ]; then
  # The caller names the broker (`make cluster` prints one): use it, start none.
  echo "run: using the broker(s) of PIGEON_RABBITMQ_URL"
else
  # On PIGEONTOOLS_RABBITMQ_PORT (5672): invoke.sh and consume_queue.py, now and in later
  # hand runs, use the port it chose where pigeon.env names the local default.
  $py scripts/rabbitmq.py start
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
