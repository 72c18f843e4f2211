"""AWS on loopback for a function in another process (the local runtime): moto's own
ThreadedMotoServer on a free port. Tests and the bench use it for Secrets Manager, S3, SQS."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# moto accepts any credentials; these only keep boto3 from looking for real ones.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "moto", "AWS_SECRET_ACCESS_KEY": "moto"}
REGION = "us-west-2"


@contextmanager
def moto_server() -> Iterator[str]:
    """Start moto's server on 127.0.0.1, port 0; yield its endpoint URL."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # not a line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def client(service: str, endpoint: str, region: str = REGION) -> Any:
    import boto3

    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def function_environment(endpoint: str) -> dict[str, str]:
    """What a function in the local runtime needs to reach this server."""
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": REGION, **FAKE_CREDENTIALS}
