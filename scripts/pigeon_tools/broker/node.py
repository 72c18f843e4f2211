"""One RabbitMQ node from Debian's rabbitmq-server, run as a child process of ours: its own
name, ports, data folder, Erlang cookie home and epmd; optionally a TLS listener.

Started in the background (several start in parallel), stopped by PID: SIGTERM to the server
script stops the node gracefully, SIGKILL to the Erlang VM (its PID file) is a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from pigeon_tools.broker.probe import amqp_answers
from pigeon_tools.broker.tls import TlsFiles
from pigeon_tools.net import free_port

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
CTL = Path("/usr/lib/rabbitmq/bin/rabbitmqctl")
# rabbitmqctl commands whose last argument is a password (read from stdin when left out).
PASSWORD_COMMANDS = frozenset({"add_user", "change_password", "authenticate_user"})
EPMD = "epmd"
USER = "guest"
PASSWORD = "guest"  # noqa: S105 (RabbitMQ's default user, which only works on loopback)


class NodeError(RuntimeError):
    """A node that would not start or answer; the message points at its log."""


def installed() -> bool:
    return SERVER.exists() and CTL.exists()


@dataclass
class Epmd:
    """The Erlang port mapper, ours alone on its own port, so that stopping it stops nothing
    of anybody else's."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Epmd:
        self.process = subprocess.Popen(
            [EPMD, "-port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@dataclass
class Node:
    name: str  # short name: the node is name@localhost
    port: int
    base: Path  # data, logs, config
    epmd_port: int
    home: Path  # holds .erlang.cookie: nodes of one cluster share it
    tls: TlsFiles | None = None
    tls_port: int | None = None
    dist_port: int = 0  # Erlang distribution (clustering, rabbitmqctl); 0: a free one at start
    config: str = ""  # more rabbitmq.conf lines
    plugins: tuple[str, ...] = ()  # enabled at boot (rabbitmq_management, …)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def node_name(self) -> str:
        return f"{self.name}@localhost"

    @property
    def pid_file(self) -> Path:
        return self.base / "node.pid"

    @property
    def log(self) -> Path:
        return self.base / "log" / "console.log"

    def url(self, user: str = USER, password: str = PASSWORD, host: str = "127.0.0.1") -> str:
        return f"amqp://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{self.port}/%2F"

    def tls_url(self, user: str = USER, password: str = PASSWORD, ca: Path | None = None) -> str:
        """amqps to the TLS listener, verifying the server against the CA."""
        if self.tls is None or self.tls_port is None:
            raise NodeError(f"{self.node_name} has no TLS listener")
        options = quote(repr({"ca_certs": str(ca or self.tls.ca)}), safe="")
        credentials = f"{quote(user, safe='')}:{quote(password, safe='')}"
        return f"amqps://{credentials}@localhost:{self.tls_port}/%2F?ssl_options={options}"

    def environment(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_NODENAME": self.node_name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.pid_file),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "ERL_CRASH_DUMP": str(self.base / "erl_crash.dump"),
            "LANG": "C.UTF-8",
        }

    def _write_config(self) -> None:
        lines = [self.config]
        if self.tls is not None and self.tls_port is not None:
            lines += [
                f"listeners.ssl.default = {self.tls_port}",
                f"ssl_options.cacertfile = {self.tls.ca}",
                f"ssl_options.certfile = {self.tls.certificate}",
                f"ssl_options.keyfile = {self.tls.key}",
                "ssl_options.verify = verify_none",
                "ssl_options.fail_if_no_peer_cert = false",
            ]
        (self.base / "rabbitmq.conf").write_text("\n".join(line for line in lines if line) + "\n")

    def start(self) -> Node:
        """Start in the background; `wait_ready` waits for it."""
        if not installed():
            raise NodeError(f"{SERVER} is missing: install Debian's rabbitmq-server")
        if not self.dist_port:
            self.dist_port = free_port()
        (self.base / "log").mkdir(parents=True, exist_ok=True)
        (self.base / "mnesia").mkdir(parents=True, exist_ok=True)
        self.home.mkdir(parents=True, exist_ok=True)
        (self.base / "enabled_plugins").write_text(f"[{','.join(self.plugins)}].\n")
        self._write_config()
        self.pid_file.unlink(missing_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(SERVER)],
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float = 60.0) -> Node:
        deadline = time.monotonic() + timeout
        while not amqp_answers(self.port, timeout=1.0):
            if not self.running() or time.monotonic() > deadline:
                raise NodeError(f"{self.node_name} did not start; see {self.log}")
            time.sleep(0.1)
        return self

    def ctl(self, *args: str, timeout: float = 60.0) -> str:
        """rabbitmqctl against this node. A password (add_user, change_password,
        authenticate_user USER PASSWORD) goes on stdin, never on the command line: off the
        process list, and one that starts with '-' is not read as an option (rabbitmqctl's
        usage error, exit 64)."""
        command, secret = list(args), None
        if command and command[0] in PASSWORD_COMMANDS and len(command) == 3:
            secret = command.pop()
        done = subprocess.run(
            [str(CTL), "-n", self.node_name, *command],
            input=None if secret is None else secret + "\n",
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise subprocess.CalledProcessError(
                done.returncode, done.args, done.stdout, done.stderr
            )
        return done.stdout

    def vm_pid(self) -> int | None:
        with suppress(OSError, ValueError):
            return int(self.pid_file.read_text().strip())
        return None

    def kill(self) -> None:
        """SIGKILL the Erlang VM, as a crash would; the server script then exits."""
        pid = self.vm_pid()
        if pid is not None:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.process is not None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)

    def stop(self, timeout: float = 60.0) -> None:
        """Graceful: the server script turns SIGTERM into a clean shutdown of the node."""
        if not self.running():
            return
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
