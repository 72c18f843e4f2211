"""A TCP peer that speaks only as much AMQP 0-9-1 as the connection handshake needs, to end it
on cue as a misbehaving node does: a fault injector like the TCP proxy, not a broker.

On each connection it reads the protocol header and then goes as far as ``mode`` says:
- ``drop-before-start``: closes the socket right after the protocol header;
- ``stall-before-start``: says nothing after the header (a node that accepts and hangs);
- ``close``: after Start-Ok, answers Connection.Close with ``reply`` (code, text), as RabbitMQ
  does for a refused login (403 ACCESS_REFUSED) or while it shuts down (320 CONNECTION_FORCED),
  and waits for Close-Ok;
- ``drop``: after Start-Ok, closes the socket (the stream lost mid-handshake);
- ``<fault>-after-tune``: sends Tune, reads Tune-Ok and Open, then the fault (``close`` as for
  a vhost the node refuses, 530);
- ``<fault>-after-open``: the connection opened (Open-Ok), then the fault on Channel.Open;
- ``<fault>-mid-publish``: channel open, confirms selected, then the fault once a whole
  Basic.Publish (method, header, body) has arrived, without a confirm;
- ``ack``: all of it, and each publish acked (a node that works).
A fault is ``drop`` (the socket closed), ``close`` (Connection.Close with ``reply``) or
``stall`` (nothing more is said, until the client gives up).

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
FRAME_HEADER, FRAME_BODY = 2, 3
CONNECTION, CHANNEL, BASIC, CONFIRM = 10, 20, 60, 85
START, START_OK, TUNE, TUNE_OK, OPEN, OPEN_OK = 10, 11, 30, 31, 40, 41
CLOSE, CLOSE_OK = 50, 51
CHANNEL_OPEN, CHANNEL_OPEN_OK = 10, 11
SELECT, SELECT_OK = 10, 11
PUBLISH, ACK = 40, 80
STAGES = ("after-tune", "after-open", "mid-publish")

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


def _table(fields: dict[str, object]) -> bytes:
    """An AMQP field table of strings ('S'), booleans ('t') and tables ('F')."""
    body = b""
    for key, value in fields.items():
        if isinstance(value, bool):
            body += _shortstr(key) + b"t" + struct.pack("B", value)
        elif isinstance(value, dict):
            body += _shortstr(key) + b"F" + _table(value)
        else:
            body += _shortstr(key) + b"S" + _longstr(str(value).encode())
    return struct.pack(">I", len(body)) + body


def method_frame(
    method: int, arguments: bytes, class_id: int = CONNECTION, channel: int = 0
) -> bytes:
    payload = struct.pack(">HH", class_id, method) + arguments
    return struct.pack(">BHI", FRAME_METHOD, channel, len(payload)) + payload + FRAME_END


def connection_tune() -> bytes:
    return method_frame(TUNE, struct.pack(">HIH", 2047, 131072, 60))


def connection_start() -> bytes:
    properties = _table(
        {
            "product": "pigeon-tests amqp_peer",
            "version": "0",
            "capabilities": {"publisher_confirms": True, "basic.nack": True},
        }
    )
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


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    """The type and payload of the next frame."""
    kind, _channel, size = struct.unpack(">BHI", _read_exactly(sock, 7))
    payload = _read_exactly(sock, size + 1)
    if payload[-1:] != FRAME_END:
        raise ConnectionError("a frame without its frame-end octet")
    return kind, payload[:-1]


def read_method(sock: socket.socket) -> tuple[int, int]:
    """The (class id, method id) of the next method frame (heartbeats skipped)."""
    kind, payload = read_frame(sock)
    while kind == 8:  # heartbeat
        kind, payload = read_frame(sock)
    if kind != FRAME_METHOD:
        raise ConnectionError(f"not a method frame: type {kind}")
    class_id, method_id = struct.unpack(">HH", payload[:4])
    return class_id, method_id


def read_publish(sock: socket.socket) -> None:
    """One whole Basic.Publish: its method, its content header, its body frames."""
    if read_method(sock) != (BASIC, PUBLISH):
        raise ConnectionError("expected Basic.Publish")
    kind, header = read_frame(sock)
    if kind != FRAME_HEADER:
        raise ConnectionError("expected a content header")
    (size,) = struct.unpack(">Q", header[4:12])
    got = 0
    while got < size:
        kind, body = read_frame(sock)
        if kind != FRAME_BODY:
            raise ConnectionError("expected a content body")
        got += len(body)


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

    def _fault(self, client: socket.socket, seen: list[str], fault: str) -> None:
        """Misbehave: drop the socket, close the connection, or stall."""
        if fault == "drop":
            seen.append("dropped")
        elif fault == "close":
            client.sendall(connection_close(*self.reply))
            seen.append(f"close {self.reply[0]}")
            if read_method(client) == (CONNECTION, CLOSE_OK):
                seen.append("close-ok")
        elif fault == "stall":
            seen.append("stalled")
            while client.recv(65536):  # until the client gives up and closes
                pass
            seen.append("client closed")

    def _serve(self, client: socket.socket, seen: list[str]) -> None:
        client.settimeout(30)
        fault, _, stage = self.mode.partition("-")
        if stage in ("before-start", *STAGES):
            pass
        elif self.mode in ("close", "drop"):
            stage = "after-start"
        else:
            fault, stage = "", "ack"
        try:
            if _read_exactly(client, 8) != PROTOCOL_HEADER:
                seen.append("bad protocol header")
                return
            seen.append("header")
            if stage == "before-start":
                self._fault(client, seen, fault)
                return
            client.sendall(connection_start())
            seen.append("start")
            if read_method(client) != (CONNECTION, START_OK):
                seen.append("no start-ok")
                return
            seen.append("start-ok")
            if stage == "after-start":
                self._fault(client, seen, fault)
                return
            client.sendall(connection_tune())
            seen.append("tune")
            if read_method(client) != (CONNECTION, TUNE_OK) or read_method(client) != (
                CONNECTION,
                OPEN,
            ):
                seen.append("no tune-ok and open")
                return
            if stage == "after-tune":
                self._fault(client, seen, fault)
                return
            client.sendall(method_frame(OPEN_OK, b"\x00"))
            seen.append("open-ok")
            if read_method(client) != (CHANNEL, CHANNEL_OPEN):
                seen.append("no channel.open")
                return
            if stage == "after-open":
                self._fault(client, seen, fault)
                return
            client.sendall(method_frame(CHANNEL_OPEN_OK, _longstr(b""), CHANNEL, 1))
            if read_method(client) != (CONFIRM, SELECT):
                seen.append("no confirm.select")
                return
            client.sendall(method_frame(SELECT_OK, b"", CONFIRM, 1))
            seen.append("confirming")
            tag = 0
            while True:
                read_publish(client)
                tag += 1
                seen.append("publish")
                if stage == "mid-publish":
                    self._fault(client, seen, fault)
                    return
                client.sendall(method_frame(ACK, struct.pack(">QB", tag, 0), BASIC, 1))
        except (OSError, ConnectionError) as error:
            seen.append(f"ended: {type(error).__name__}")
        finally:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()
