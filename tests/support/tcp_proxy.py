"""A loopback TCP proxy for fault tests: it delays, blackholes, refuses, or calls back after N
bytes either way; it counts the connections it accepted."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Callable

from support.loopback import LoopbackServer


class TcpProxy(LoopbackServer):
    """Forwards 127.0.0.1:<port> to a target. Modes, switchable at any time:
    ``forward``; ``delay`` (each chunk waits ``delay`` seconds); ``blackhole`` (bytes are read
    and dropped in both directions: a partition that keeps TCP up); ``refuse`` (a new
    connection is closed at once, as by a host whose broker is gone). ``chunk`` bounds how
    much is read (and forwarded) at a time."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        super().__init__()
        self.target = (target_host, target_port)
        self.mode = "forward"
        self.delay = 0.0
        self.chunk = 65536
        self.accepted = 0  # connections accepted, refused ones included
        self.client_ports: list[int] = []  # each accepted connection's client port: its identity
        self.open = 0  # connections being forwarded now
        self._lock = threading.Lock()
        self.upstream_bytes = 0
        self.downstream_bytes = 0
        self.on_upstream_bytes: tuple[int, Callable[[], None]] | None = None
        self.on_downstream_bytes: tuple[int, Callable[[], None]] | None = None
        self._sockets: list[socket.socket] = []
        self.start()

    def url_for(self, url: str) -> str:
        """A broker URL of the target, through this proxy."""
        return url.replace(f":{self.target[1]}/", f":{self.port}/")

    def handle(self, client: socket.socket) -> None:
        self.accepted += 1
        self.client_ports.append(client.getpeername()[1])
        if self.mode == "refuse":
            client.close()
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        self._sockets += [client, upstream]
        with self._lock:
            self.open += 1
        threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        try:
            while not self._stop.is_set():
                readable, _, _ = select.select(list(peers), [], [], 0.1)
                for sock in readable:
                    data = sock.recv(self.chunk)
                    if not data:
                        return
                    if self.mode == "blackhole":
                        continue
                    if self.mode == "delay":
                        time.sleep(self.delay)
                    peers[sock].sendall(data)
                    if sock is client:
                        self._count_up(len(data))
                    else:
                        self._count_down(len(data))
        except (OSError, ValueError):  # a socket closed by drop()
            return
        finally:
            client.close()
            upstream.close()
            with self._lock:
                self.open -= 1

    def _count_up(self, n: int) -> None:
        self.upstream_bytes += n
        hook = self.on_upstream_bytes
        if hook and self.upstream_bytes >= hook[0]:
            self.on_upstream_bytes = None
            hook[1]()

    def _count_down(self, n: int) -> None:
        self.downstream_bytes += n
        hook = self.on_downstream_bytes
        if hook and self.downstream_bytes >= hook[0]:
            self.on_downstream_bytes = None
            hook[1]()

    def drop(self) -> None:
        """Close every connection through the proxy, as a dying node would; keep listening.
        What was forwarded before reaches the other end first (a FIN after the data)."""
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
        self._sockets.clear()

    def close(self) -> None:
        super().close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
