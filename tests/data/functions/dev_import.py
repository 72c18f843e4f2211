"""A function that imports a dev-only package: fine in the venv, fails in Lambda."""

import pytest  # noqa: F401


def handler(event, context):
    return "never in Lambda"
