"""A real RabbitMQ node for the tests (pigeon_tools.broker.node), with what tests do to it:
declare and drain queues, rabbitmqctl, stop, kill and restart."""

from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass
from typing import Any

from pigeon_tools import net, queues
from pigeon_tools.broker.node import PASSWORD, USER, Node

# How long a connection the broker closes (close_all_connections) stays open: RabbitMQ sends
# connection.close and waits for the client's close-ok, about 30 s for an idle client (one
# whose next publish is what would read it), before it drops the socket. A test that waits
# for the socket to go waits longer than that.
CLOSED_WITHIN = 45.0


@dataclass
class Broker:
    node: Node

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self.node.port

    @property
    def url(self) -> str:
        return self.node.url()

    def url_with(self, user: str = USER, password: str = PASSWORD) -> str:
        return self.node.url(user, password)

    def tls_url(self, user: str = USER, password: str = PASSWORD, ca: Any = None) -> str:
        return self.node.tls_url(user, password, ca)

    def ctl(self, *args: str) -> str:
        return self.node.ctl(*args)

    def declare(self, *names: str, **arguments: Any) -> None:
        """Durable queues, created and emptied."""
        queues.declare(self.url, *names, purge=True, arguments=arguments or None)

    def delete(self, *names: str) -> None:
        queues.delete(self.url, *names)

    def drain(self, queue: str) -> list[tuple[str, Any]]:
        return queues.drain(self.url, queue)

    def bodies(self, queue: str) -> list[str]:
        return queues.bodies(self.url, queue)

    def stop_app(self) -> None:
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        self.wait_ready()

    def kill(self) -> None:
        """SIGKILL the node, as a crash would."""
        self.node.kill()

    def restart(self) -> None:
        self.node.start().wait_ready(60)
        self.wait_ready()

    def wait_ready(self, timeout: float = 30) -> None:
        def answers() -> bool:
            try:
                with queues.channel(self.url):
                    return True
            except Exception:
                return False

        assert net.wait_until(answers, timeout, 0.2), f"{self.node.node_name} does not answer"

    def heal(self) -> None:
        """Back to normal after a test stopped the node or raised an alarm."""
        if not self.node.running():
            self.restart()
        with contextlib.suppress(subprocess.CalledProcessError):
            self.ctl("set_vm_memory_high_watermark", "0.4")
        with contextlib.suppress(subprocess.CalledProcessError):
            self.ctl("start_app")
        self.wait_ready()
