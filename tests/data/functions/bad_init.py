"""A function whose init fails, as a bad configuration makes Pigeon's fail."""

raise RuntimeError("init failed: PIGEON_QUEUES: required but not set")


def handler(event, context):
    return "never"
