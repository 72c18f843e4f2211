"""SnapStart's runtime hooks, registered with snapshot_restore_py (Lambda's library for them).

With SnapStart, Lambda runs Init once, snapshots the execution environment and restores every
new environment from that one snapshot: whatever Init left in memory is then in all of them.
The Python runtime runs these hooks only with SnapStart (AWS_LAMBDA_INITIALIZATION_TYPE is
snap-start); otherwise registering them costs nothing.

- Before the snapshot: close any broker connection (its socket is dead after a restore, or
  shared by every restored environment), and forget the node order, the secret read from
  Secrets Manager and any AWS credentials read from the container endpoint (a SnapStart
  function's; pigeon.secrets_api).
- Also before it: import pika, so that the snapshot holds it and no restored environment's
  first publish imports it (a function configured with a URL without a query imports pika only
  when it first connects).
- After the restore: reseed `random` (the snapshot holds its state, the same in every
  restored environment), so each environment draws its own.

Lambda requires the hooks to be registered by the handler's module, or a module it imports:
pigeon.handler imports this one. The handler object is looked up when a hook runs, after
Init, so this module does not import the handler at import time.
"""

from __future__ import annotations

import random
import sys
import time

from snapshot_restore_py import register_after_restore, register_before_snapshot

from pigeon import logs

# A clean close of the connection before the snapshot waits at most this long.
CLOSE_SECONDS = 1.0


def before_snapshot() -> None:
    import pika  # noqa: F401  (into the snapshot, imported once for every restored environment)

    entry = sys.modules.get("pigeon.handler")
    pigeon = getattr(entry, "handler", None)
    if pigeon is not None:
        pigeon.publisher.forget(time.monotonic() + CLOSE_SECONDS)
    logs.get_logger("pigeon.snapstart").info(
        "before snapshot: broker connection closed, node order and credentials forgotten"
    )


def after_restore() -> None:
    random.seed()  # from os.urandom: the kernel's entropy is this environment's own
    logs.get_logger("pigeon.snapstart").info("after restore: random reseeded")


register_before_snapshot(before_snapshot)
register_after_restore(after_restore)
