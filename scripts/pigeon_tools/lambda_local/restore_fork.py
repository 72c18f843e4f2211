"""Runs INSIDE the runtime's process in restore mode (never imported by the tools): the local
stand-in for SnapStart's snapshot and restore.

awslambdaric runs Init, then the before-snapshot hooks, then calls `GET /runtime/restore/next`
(its `restore_next`). In Lambda that call returns in each environment restored from the
microVM snapshot. Here `restore_next` is wrapped: the snapshot's own Runtime API answers first
(the snapshot is taken), then the process forks once per restored environment. Each child is
what a restore gives: the same memory as the snapshot. It becomes its own process group, sends
its output to its own log pipe, points the runtime client at its own Runtime API and calls the
real `restore_next` there; awslambdaric then runs the after-restore hooks (and reports their
failure to /runtime/restore/error) and serves invocations, unchanged. The snapshot itself is
never resumed: it waits for the restored environments and ends with them.

One difference from a microVM snapshot is undone: CPython reseeds `random` in a forked child,
and a restored snapshot does not, so each child gets the snapshot's random state back (a
function that forgets to reseed after a restore is caught here as it would be in Lambda).

Started as `python -S -B -c <run this file> HANDLER`; PIGEONTOOLS_RESTORE_ENVIRONMENTS lists
`ADDRESS=LOG_PIPE` pairs, comma separated.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.machinery
import importlib.util
import os
import random
import runpy
import shutil
import signal
import sys
from typing import Any

ENVIRONMENTS = "PIGEONTOOLS_RESTORE_ENVIRONMENTS"


def _restored(client: Any, address: str, log_pipe: str, restore_next: Any) -> None:
    """In the child: become one restored environment, then let the runtime carry on."""
    os.setsid()  # its own process group: frozen and killed on its own
    fd = os.open(log_pipe, os.O_WRONLY)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.environ["AWS_LAMBDA_RUNTIME_API"] = address
    client.lambda_runtime_address = address
    ric: Any = importlib.import_module("awslambdaric.lambda_runtime_client")
    if ric.runtime_client is not None:
        ric.runtime_client = _native_client_for(ric.runtime_client, log_pipe)
        ric.runtime_client.initialize_client(ric._user_agent())
    restore_next(client)


def _native_client_for(native: Any, log_pipe: str) -> Any:
    """The runtime's C client again, loaded afresh: it reads AWS_LAMBDA_RUNTIME_API once, when
    the library loads (a static), so only a new copy of the library talks to this
    environment's Runtime API. Its code is the same file's."""
    source = native.__file__
    copy = os.path.join(os.path.dirname(log_pipe), f"{os.getpid()}-{os.path.basename(source)}")
    shutil.copyfile(source, copy)
    loader = importlib.machinery.ExtensionFileLoader("runtime_client", copy)
    spec = importlib.util.spec_from_file_location("runtime_client", copy, loader=loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    sys.modules["runtime_client"] = module
    return module


def _snapshot_and_restore(environments: list[tuple[str, str]], restore_next: Any) -> Any:
    def wrapped(client: Any) -> None:
        restore_next(client)  # the snapshot's API: Init and the before-snapshot hooks are done
        state = random.getstate()
        children = []
        for address, log_pipe in environments:
            pid = os.fork()
            if pid == 0:
                random.setstate(state)  # as a restore: the snapshot's state, not fork's reseed
                _restored(client, address, log_pipe, restore_next)
                return
            children.append(pid)
            print(f"restore-fork: environment {pid} restored for {address}", flush=True)
        reaped: set[int] = set()

        def end_all(_signal: int, _frame: Any) -> None:
            # Only the parent may end its children safely: until it reaps one, its pid cannot
            # be another process's.
            for pid in children:
                if pid not in reaped:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)

        signal.signal(signal.SIGTERM, end_all)
        for pid in children:
            _, status = os.waitpid(pid, 0)
            reaped.add(pid)
            print(f"restore-fork: environment {pid} exited: {os.waitstatus_to_exitcode(status)}")
        sys.stdout.flush()
        os._exit(0)

    return wrapped


def main() -> None:
    environments = [
        (address, pipe)
        for address, _, pipe in (
            item.partition("=") for item in os.environ.pop(ENVIRONMENTS).split(",")
        )
    ]
    ric = importlib.import_module("awslambdaric.lambda_runtime_client")
    base = ric.BaseLambdaRuntimeClient
    base.restore_next = _snapshot_and_restore(environments, base.restore_next)
    sys.argv[0] = "awslambdaric"
    runpy.run_module("awslambdaric", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
