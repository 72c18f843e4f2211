"""Brokers that outlive the command that started them (`make broker`, `make cluster`): a JSON
state file of what was started, and stopping it later by PID."""

from __future__ import annotations

import json
import os
import signal
from contextlib import suppress
from pathlib import Path

from pigeon_tools import net


def save(path: Path, state: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state) + "\n")


def load(path: Path) -> dict[str, object]:
    with suppress(OSError, ValueError):
        loaded = json.loads(path.read_text())
        if isinstance(loaded, dict):
            return loaded
    return {}


def read_pid(path: Path) -> int | None:
    with suppress(OSError, ValueError):
        return int(path.read_text().strip())
    return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def send(pid: object, sig: signal.Signals) -> None:
    if isinstance(pid, int):
        with suppress(ProcessLookupError):
            os.kill(pid, sig)


def stop_node(server_pid: object, pid_file: Path, timeout: float = 60.0) -> None:
    """A node started earlier: SIGTERM to its server script stops it gracefully; its Erlang VM
    (the PID file) is killed if it has not ended by the timeout."""
    vm = read_pid(pid_file)
    send(server_pid, signal.SIGTERM)
    if vm is not None and not net.wait_until(lambda: not alive(vm), timeout=timeout):
        send(vm, signal.SIGKILL)
