"""Prototype for the bench, not shipped: Pigeon with the SDK import and the secret fetch moved
into Init. Today's Pigeon imports boto3 and reads the secret on the first publish; this one does
both while its module is imported (Init Duration), so the first invoke only connects and
publishes. The bench runs it from a copy of the same zip, beside Pigeon, to decide by
measurement where that work belongs now that Init is billed.
"""

from __future__ import annotations

from pigeon.handler import handler as pigeon

# The publisher's broker source reads the secret once per container and keeps it: reading it
# here imports boto3, makes the client and calls GetSecretValue during Init.
pigeon.publisher._broker.urls()
handler = pigeon
