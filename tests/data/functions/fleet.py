"""A function for testing how the local Invoke API scales, freezes and retries: one handler,
the event says what to do.

- {"action": "ident"}: which environment (its pid) ran the request;
- {"action": "hold", "release": PATH}: keep the environment busy until PATH exists;
- {"action": "gaps"}: the longest pause of a background thread ticking every millisecond,
  since the last call (a frozen environment's threads do not run);
- {"action": "attempt", "log": PATH, "fail": N}: append the request id to PATH, and fail the
  first N attempts of this request;
- {"action": "spawn"}: start a child process (`sleep`, in the runtime's process group) and say
  its pid, as a function that runs a tool does.
"""

import os
import subprocess
import threading
import time

PID = os.getpid()
_gap = {"last": time.monotonic(), "largest": 0.0}


def _tick():
    while True:
        time.sleep(0.001)
        now = time.monotonic()
        _gap["largest"] = max(_gap["largest"], now - _gap["last"])
        _gap["last"] = now


threading.Thread(target=_tick, daemon=True).start()


def handle(event, context):
    action = event.get("action")
    found = {"pid": PID, "request_id": context.aws_request_id}
    if action == "hold":
        while not os.path.exists(event["release"]):
            time.sleep(0.002)
    elif action == "gaps":
        # The pause still running counts too: the ticker may not have run since the thaw.
        found["largest_gap_s"] = max(_gap["largest"], time.monotonic() - _gap["last"])
        _gap["largest"] = 0.0
    elif action == "spawn":
        found["child"] = subprocess.Popen(["sleep", "600"]).pid
    elif action == "attempt":
        with open(event["log"], "a") as log:
            log.write(f"{context.aws_request_id} {time.monotonic()}\n")
        with open(event["log"]) as log:
            attempts = sum(1 for line in log if line.startswith(context.aws_request_id))
        if attempts <= event.get("fail", 0):
            raise RuntimeError(f"attempt {attempts} failed, as asked")
        found["attempts"] = attempts
    return found
