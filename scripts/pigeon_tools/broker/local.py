"""The developer's broker on 127.0.0.1:5672 behind `make broker`, `make run` and `make bench`.

Keep a RabbitMQ that already answers there; else the compose service when a Docker engine
answers; else a private node of Debian's rabbitmq-server under .cache/rabbitmq (plain AMQP and
TLS on 5671), which lives on after the command, and is stopped by `make broker-stop` by PID.
The port it chose (PIGEONTOOLS_RABBITMQ_PORT) is remembered, so that a later hand invoke or
queue tool reaches the same broker where pigeon.env names the local default; a
PIGEONTOOLS_RABBITMQ_PORT set for that later call wins over the remembered one."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from contextlib import suppress
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from pigeon_tools import docker, net
from pigeon_tools.broker import node as nodes
from pigeon_tools.broker import processes, tls
from pigeon_tools.broker.probe import amqp_answers
from pigeon_tools.paths import CACHE, ROOT

BASE = CACHE / "rabbitmq"
STATE = BASE / "state.json"
CHOSEN = BASE / "port"  # the port the last `start` chose: what hand-run tools then use
DEFAULT_PORT = 5672
LOCAL_HOSTS = ("127.0.0.1", "localhost")
NAME = "pigeon-local"
COMPOSE = ["docker", "compose", "--project-directory", str(ROOT)]


class BrokerError(RuntimeError):
    """What went wrong and what to do about it."""


def say(message: str) -> None:
    print(f"rabbitmq: {message}", file=sys.stderr, flush=True)


def _port(name: str, default: int) -> int:
    found = env_port(name)
    return default if found is None else found


def env_port(name: str) -> int | None:
    """The port an environment variable sets, None when unset; a value that is not a port
    stops with a message naming the variable."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise BrokerError(f"{name} must be a TCP port (1-65535), not {value!r}")
    return int(value)


@dataclass(frozen=True)
class Ports:
    amqp: int = field(default_factory=lambda: _port("PIGEONTOOLS_RABBITMQ_PORT", DEFAULT_PORT))
    tls: int = field(default_factory=lambda: _port("PIGEONTOOLS_RABBITMQ_TLS_PORT", 5671))


def install() -> None:
    """Debian's rabbitmq-server, with apt-get (as root, or through sudo)."""
    if nodes.installed():
        return
    prefix = [] if os.getuid() == 0 else ["sudo"] if shutil.which("sudo") else None
    if prefix is None:
        raise BrokerError("rabbitmq-server is missing and installing it needs root or sudo")
    say("installing Debian's rabbitmq-server (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "rabbitmq-server"])
    for command in steps:
        # policy-rc.d may forbid starting the service (containers): fine, we start our own.
        subprocess.run([*prefix, *command], env=env, check=True, stdout=sys.stderr)


def start(ports: Ports | None = None) -> None:
    ports = ports or Ports()
    _start(ports)
    CHOSEN.parent.mkdir(parents=True, exist_ok=True)
    CHOSEN.write_text(f"{ports.amqp}\n")


def chosen_port() -> int | None:
    """The port hand-run tools use: PIGEONTOOLS_RABBITMQ_PORT when set (the caller's word wins
    over what was remembered), else the one the last `make broker` / `make run` used, if any."""
    given = env_port("PIGEONTOOLS_RABBITMQ_PORT")
    if given is not None:
        return given
    with suppress(OSError, ValueError):
        return int(CHOSEN.read_text().strip())
    return None


def on_chosen_port(url: str) -> str:
    """pigeon.env's local default broker URL moved to the port the tools chose; any other URL
    (another host, port or scheme) as it is."""
    parts = urlsplit(url)
    port = chosen_port()
    try:
        local = parts.scheme == "amqp" and parts.hostname in LOCAL_HOSTS
        default = (parts.port or DEFAULT_PORT) == DEFAULT_PORT
    except ValueError:
        return url
    if not (local and default) or port is None or port == DEFAULT_PORT:
        return url
    login, _, _ = parts.netloc.rpartition("@")
    netloc = f"{login}@{parts.hostname}:{port}" if login else f"{parts.hostname}:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def address(url: str) -> tuple[str, int] | None:
    """(host, port) of a broker URL, or None when it is not one."""
    try:
        parts = urlsplit(url)
        return parts.hostname or "127.0.0.1", parts.port or (
            5671 if parts.scheme == "amqps" else DEFAULT_PORT
        )
    except ValueError:
        return None


def where(url: str) -> str:
    """host:port of a broker URL (never its credentials)."""
    found = address(url)
    return f"{found[0]}:{found[1]}" if found else "an invalid URL"


def unreachable(setting: str) -> str | None:
    """Why nothing can be published to the broker of a PIGEON_RABBITMQ_URL value (one line,
    with what to do), or None when a node of it answers AMQP."""
    found = [address(url.strip()) for url in setting.split(",") if url.strip()]
    nodes = [node for node in found if node is not None]
    if not nodes or any(amqp_answers(port, host, timeout=2.0) for host, port in nodes):
        return None  # an invalid URL: the function names what is wrong with it
    where = ", ".join(f"{host}:{port}" for host, port in nodes)
    host, port = nodes[0]
    if len(nodes) == 1 and host in LOCAL_HOSTS:
        hint = "start one with `make broker`"
        if port != DEFAULT_PORT:
            hint = f"start one with `PIGEONTOOLS_RABBITMQ_PORT={port} make broker`"
        return f"no RabbitMQ answers on {where}; {hint}, or set PIGEON_RABBITMQ_URL"
    return f"no RabbitMQ answers on {where}; check the broker, or set PIGEON_RABBITMQ_URL"


def hand_run_setting() -> str:
    """PIGEON_RABBITMQ_URL as a hand-run tool (invoke.sh, consume_queue.py) gives it: the
    caller's as given; else pigeon.env's, its local default node on the port the tools chose;
    "" when neither sets one (a secret instead, say)."""
    from pigeon.parsers import ConfigError, split_broker_urls
    from pigeon_tools.lambda_local import function

    given = os.environ.get("PIGEON_RABBITMQ_URL")
    if given:
        return given
    value = function.setting("PIGEON_RABBITMQ_URL")
    try:
        urls = split_broker_urls(value, "PIGEON_RABBITMQ_URL") if value else ()
    except ConfigError:
        return value  # the function says what is wrong with it
    return ",".join(on_chosen_port(node.url) for node in urls)


def hand_run_url() -> str:
    """The one broker a queue tool talks to: the first node of hand_run_setting()."""
    from pigeon_tools.lambda_local import function

    return hand_run_setting().split(",")[0].strip() or function.LOCAL_BROKER_URL


def _start(ports: Ports) -> None:
    if net.listening(ports.amqp):
        if amqp_answers(ports.amqp):
            say(f"a broker is already listening on 127.0.0.1:{ports.amqp}; using it")
            return
        raise BrokerError(
            f"port {ports.amqp} on 127.0.0.1 is taken by something that is not a RabbitMQ "
            "broker\n(it did not answer the AMQP 0-9-1 handshake). Stop it, or pick another "
            f"port:\n  PIGEONTOOLS_RABBITMQ_PORT={ports.amqp + 1} make run"
        )
    if docker.engine_answers() and os.environ.get("PIGEONTOOLS_LOCAL_BROKER") != "package":
        say("starting the rabbitmq service of docker-compose.yml")
        subprocess.run([*COMPOSE, "up", "-d", "--wait", "rabbitmq"], check=True, stdout=sys.stderr)
        processes.save(STATE, {"mode": "compose"})
        return
    install()
    files = tls.existing(BASE / "tls") or tls.write(BASE / "tls")
    epmd = nodes.Epmd(net.free_port()).start()
    node = nodes.Node(NAME, ports.amqp, BASE, epmd.port, home=BASE, tls=files, tls_port=ports.tls)
    say(
        f"starting a private node {NAME} on 127.0.0.1:{ports.amqp}, TLS on {ports.tls} "
        "(data in .cache/rabbitmq; stop: make broker-stop)"
    )
    node.start()
    assert node.process is not None
    assert epmd.process is not None
    processes.save(
        STATE,
        {
            "mode": "package",
            "server_pid": node.process.pid,
            "epmd_pid": epmd.process.pid,
            "port": ports.amqp,
            "tls_port": ports.tls,
        },
    )
    try:
        node.wait_ready(60)
    except nodes.NodeError:
        stop()
        raise
    say("ready")


def stop() -> None:
    state = processes.load(STATE)
    if state.get("mode") == "compose":
        subprocess.run([*COMPOSE, "stop", "rabbitmq"], check=False, stdout=sys.stderr)
        say("stopped the docker compose rabbitmq service")
    elif state.get("mode") == "package":
        processes.stop_node(state.get("server_pid"), BASE / "node.pid")
        processes.send(state.get("epmd_pid"), signal.SIGTERM)
        say(f"stopped {NAME}")
    else:
        say("no private node to stop")
    STATE.unlink(missing_ok=True)


def tls_url() -> str | None:
    """amqps to the private node's TLS listener, when it runs."""
    state, files = processes.load(STATE), tls.existing(BASE / "tls")
    port, amqp = state.get("tls_port"), state.get("port")
    if state.get("mode") != "package" or files is None:
        return None
    if not isinstance(port, int) or not isinstance(amqp, int) or not net.listening(port):
        return None
    return nodes.Node(NAME, amqp, BASE, 0, home=BASE, tls=files, tls_port=port).tls_url()
