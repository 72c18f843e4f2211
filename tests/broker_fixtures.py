"""A real RabbitMQ node for the tests, started by pytest-rabbitmq (about 12 s, once a session)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pika
import pytest

USER = "guest"
PASSWORD = "guest"


@dataclass
class Broker:
    """The test node: its URL, rabbitmqctl, and plain pika helpers for setting up and checking."""

    executor: Any
    host: str
    port: int
    tls: Any = None

    @property
    def url(self) -> str:
        return f"amqp://{USER}:{PASSWORD}@{self.host}:{self.port}/%2F"

    def url_with(self, user: str = USER, password: str = PASSWORD) -> str:
        return f"amqp://{user}:{password}@{self.host}:{self.port}/%2F"

    def tls_url(self, user: str = USER, password: str = PASSWORD, ca: Path | None = None) -> str:
        """amqps to the TLS listener, verifying the server against the test CA."""
        options = quote(repr({"ca_certs": str(ca or self.tls.ca)}), safe="")
        return f"amqps://{user}:{password}@localhost:{self.tls.port}/%2F?ssl_options={options}"

    def ctl(self, *args: str) -> str:
        return self.executor.rabbitctl_output(*args)

    def connection(self) -> pika.BlockingConnection:
        return pika.BlockingConnection(pika.URLParameters(self.url))

    def declare(self, *queues: str) -> None:
        with contextlib.closing(self.connection()) as conn:
            channel = conn.channel()
            for queue in queues:
                channel.queue_declare(queue, durable=True)
                channel.queue_purge(queue)

    def delete(self, *queues: str) -> None:
        with contextlib.closing(self.connection()) as conn:
            channel = conn.channel()
            for queue in queues:
                channel.queue_delete(queue)

    def drain(self, queue: str) -> list[tuple[str, Any]]:
        """Take every message off the queue: (body, properties) pairs."""
        got: list[tuple[str, Any]] = []
        with contextlib.closing(self.connection()) as conn:
            channel = conn.channel()
            while True:
                method, properties, body = channel.basic_get(queue, auto_ack=True)
                if method is None:
                    return got
                got.append((body.decode(), properties))

    def bodies(self, queue: str) -> list[str]:
        return [body for body, _ in self.drain(queue)]

    def stop_app(self) -> None:
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        self.wait_ready()

    def kill(self) -> None:
        """SIGKILL the node, as a crash would."""
        self.executor.kill()

    def restart(self) -> None:
        self.executor.start()
        self.wait_ready(60)

    def messages(self, queue: str) -> int:
        for line in self.ctl("list_queues", "name", "messages").splitlines():
            name, _, count = line.partition("\t")
            if name == queue:
                return int(count)
        return 0

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.connection().close()
                return
            except pika.exceptions.AMQPConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


@dataclass
class Tls:
    port: int
    ca: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A TLS listener for the test node (amqps, as Amazon MQ requires): a CA and a localhost
    certificate made here, set in the node's config before it starts."""
    import tls_certificates

    folder = tmp_path_factory.mktemp("rabbitmq-tls")
    files = tls_certificates.write(folder)
    port = _free_port()
    config = folder / "rabbitmq.conf"
    config.write_text(
        f"listeners.ssl.default = {port}\n"
        f"ssl_options.cacertfile = {files.ca}\n"
        f"ssl_options.certfile = {files.certificate}\n"
        f"ssl_options.keyfile = {files.key}\n"
        "ssl_options.verify = verify_none\n"
        "ssl_options.fail_if_no_peer_cert = false\n"
    )
    os.environ["RABBITMQ_CONFIG_FILE"] = str(config)  # read by the node pytest-rabbitmq starts
    return Tls(port, files.ca)


@pytest.fixture(scope="session")
def broker(tls: Tls, rabbitmq_proc: Any) -> Broker:
    node = Broker(rabbitmq_proc, rabbitmq_proc.host, rabbitmq_proc.port, tls)
    node.wait_ready()
    return node


@pytest.fixture(scope="session")
def pigeon_url(broker: Broker) -> str:
    """A broker user of Pigeon's own with a strong password, watched by the secret scan."""
    import secrets as random_secrets

    import evidence

    password = evidence.secret("pw-" + random_secrets.token_urlsafe(18))
    broker.ctl("add_user", "pigeon", password)
    broker.ctl("set_permissions", "-p", "/", "pigeon", ".*", ".*", ".*")
    return broker.url_with("pigeon", password)


@pytest.fixture
def healthy_broker(broker: Broker) -> Iterator[Broker]:
    """The node, put back to normal after a test that stopped it or raised an alarm."""
    yield broker
    if not broker.executor.running():
        broker.restart()
    with contextlib.suppress(subprocess.CalledProcessError):
        broker.ctl("set_vm_memory_high_watermark", "0.4")
    with contextlib.suppress(subprocess.CalledProcessError):
        broker.ctl("start_app")
    broker.wait_ready()
