"""Is it RabbitMQ? A node answers the AMQP 0-9-1 protocol header with a method frame (type 1),
Connection.Start. Anything else on the port is not a broker Pigeon can use."""

from __future__ import annotations

import socket

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"
METHOD_FRAME = 1


def amqp_answers(port: int, host: str = "127.0.0.1", timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(PROTOCOL_HEADER)
            first = sock.recv(1)
    except OSError:
        return False
    return first == bytes([METHOD_FRAME])
