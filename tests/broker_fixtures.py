"""A real RabbitMQ node for the tests, started by pytest-rabbitmq (about 12 s, once a session)."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

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

    @property
    def url(self) -> str:
        return f"amqp://{USER}:{PASSWORD}@{self.host}:{self.port}/%2F"

    def url_with(self, user: str = USER, password: str = PASSWORD) -> str:
        return f"amqp://{user}:{password}@{self.host}:{self.port}/%2F"

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


@pytest.fixture(scope="session")
def broker(rabbitmq_proc: Any) -> Iterator[Broker]:
    node = Broker(rabbitmq_proc, rabbitmq_proc.host, rabbitmq_proc.port)
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
