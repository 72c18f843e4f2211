"""Baseline for the bench: a naive handler that prepares everything at import (cold start).

It imports pika, all of datadog and python-json-logger, and creates a boto3 Secrets Manager
client at module level; then it publishes like the seed did (seed_strategy, beside it).
"""

from __future__ import annotations

from typing import Any

import boto3
import datadog  # noqa: F401
import pika  # noqa: F401
import seed_strategy
from pythonjsonlogger.json import JsonFormatter  # noqa: F401

SECRETS = boto3.client("secretsmanager")


def handler(event: Any, context: Any) -> Any:
    return seed_strategy.handler(event, context)
