"""Prototype for the bench, not shipped: Pigeon with the secret read (and the SDK import before
it) done during Init. Pigeon reads the secret on the first publish; this one reads it while its
module is imported (Init Duration), so the first invoke only connects and publishes. The bench
runs it from a copy of the same zip, beside Pigeon, to decide by measurement where that work
belongs now that Init is billed.
"""

from __future__ import annotations

import time

from pigeon.handler import handler as pigeon

# The publisher's broker source reads the secret once per container and keeps it: reading it
# here calls GetSecretValue during Init, and waits for it (Pigeon's own Init read, prefetch, is
# best effort within PREFETCH_SECONDS; this one is the prototype it was decided by).
broker = pigeon.publisher._broker
broker.nodes(time.monotonic() + 10.0)
handler = pigeon
