"""A TCP peer that speaks only as much AMQP 0-9-1 as the connection handshake needs, to end it
on cue as a misbehaving node does: a fault injector like the TCP proxy, not a broker.

On each connection it reads the protocol header, sends Connection.Start, reads Start-Ok, and
then, by ``mode``:
- ``close``: answers Connection.Close with ``reply`` (code, text), as RabbitMQ does for a refused
  login (403 ACCESS_REFUSED) or while it shuts down (320 CONNECTION_FORCED), waits for Close-Ok;
- ``drop``: closes the socket (the stream lost mid-handshake);
- ``drop-before-start``: closes the socket right after the protocol header.

Frames are written by hand from the AMQP 0-9-1 specification (frame: type, channel, size,
payload, 0xCE; method payload: class id, method id, arguments), not with pika's encoder, so
that the peer does not share the client's view of the protocol.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

from support.loopback import LoopbackServer

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
FRAME_METHOD = 1
FRAME_END = b"\xce"
CONNECTION = 10
START, START_OK, CLOSE, CLOSE_OK = 10, 11, 50, 51

CONNECTION_FORCED = (
    320,
    "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'",
)
ACCESS_REFUSED = (
    403,
    "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see "
    "the broker logfile.",
)


def _shortstr(text: str) -> bytes:
    data = text.encode()
    return struct.pack("B", len(data)) + data


def _longstr(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _table(fields: dict[str, str]) -> bytes:
    body = b"".join(_shortstr(k) + b"S" + _longstr(v.encode()) for k, v in fields.items())
    return struct.pack(">I", len(body)) + body


def method_frame(method: int, arguments: bytes) -> bytes:
    payload = struct.pack(">HH", CONNECTION, method) + arguments
    return struct.pack(">BHI", FRAME_METHOD, 0, len(payload)) + payload + FRAME_END


def connection_start() -> bytes:
    properties = _table({"product": "pigeon-tests amqp_peer", "version": "0"})
    return method_frame(
        START, struct.pack("BB", 0, 9) + properties + _longstr(b"PLAIN") + _longstr(b"en_US")
    )


def connection_close(code: int, text: str) -> bytes:
    return method_frame(CLOSE, struct.pack(">H", code) + _shortstr(text) + struct.pack(">HH", 0, 0))


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the client closed the connection")
        data += chunk
    return data


def read_method(sock: socket.socket) -> tuple[int, int]:
    """The (class id, method id) of the next method frame."""
    kind, _channel, size = struct.unpack(">BHI", _read_exactly(sock, 7))
    payload = _read_exactly(sock, size + 1)
    if kind != FRAME_METHOD or payload[-1:] != FRAME_END:
        raise ConnectionError(f"not a method frame: type {kind}")
    class_id, method_id = struct.unpack(">HH", payload[:4])
    return class_id, method_id


class AmqpPeer(LoopbackServer):
    """Listens on 127.0.0.1:<port>; what each connection got is in ``sessions``."""

    def __init__(self, mode: str = "close", reply: tuple[int, str] = CONNECTION_FORCED) -> None:
        super().__init__()
        self.mode = mode
        self.reply = reply
        self.sessions: list[list[str]] = []  # per connection: what happened, in order
        self.start()

    def url(self, user: str = "pigeon", password: str = "peer-pw") -> str:  # noqa: S107
        return f"amqp://{user}:{password}@127.0.0.1:{self.port}/%2F"

    def handle(self, client: socket.socket) -> None:
        seen: list[str] = []
        self.sessions.append(seen)
        threading.Thread(target=self._serve, args=(client, seen), daemon=True).start()

    def _serve(self, client: socket.socket, seen: list[str]) -> None:
        client.settimeout(10)
        try:
            if _read_exactly(client, 8) != PROTOCOL_HEADER:
                seen.append("bad protocol header")
                return
            seen.append("header")
            if self.mode == "drop-before-start":
                return
            client.sendall(connection_start())
            seen.append("start")
            if read_method(client) != (CONNECTION, START_OK):
                seen.append("no start-ok")
                return
            seen.append("start-ok")
            if self.mode == "drop":
                return
            client.sendall(connection_close(*self.reply))
            seen.append(f"close {self.reply[0]}")
            if read_method(client) == (CONNECTION, CLOSE_OK):
                seen.append("close-ok")
        except (OSError, ConnectionError) as error:
            seen.append(f"ended: {type(error).__name__}")
        finally:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()
