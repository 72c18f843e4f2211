"""A function for testing the local runtime itself: it reports what it sees."""

import os
import sys
import time

COLD_START_PID = os.getpid()


def echo(event, context):
    print(f"probe: echo {context.aws_request_id}")
    return {
        "event": event,
        "sys_path": sys.path,
        "env": {k: v for k, v in os.environ.items() if k != "AWS_SECRET_ACCESS_KEY"},
        "request_id": context.aws_request_id,
        "function_arn": context.invoked_function_arn,
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "pid": COLD_START_PID,
        "modules": sorted(m for m in sys.modules if m.split(".")[0] in {"pytest", "pigeon"}),
    }


def boom(event, context):
    raise ValueError("boom: the handler failed")


def sleepy(event, context):
    time.sleep(float(event.get("seconds", 5)))
    return {"slept": event.get("seconds", 5)}


def hog(event, context):
    block = bytearray(int(event.get("mb", 64)) * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])
    return {"allocated_mb": event.get("mb", 64)}
