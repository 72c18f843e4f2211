#!/usr/bin/env python3
"""A local AWS Lambda runtime without Docker: the real runtime interface client, our Runtime API.

    local_runtime.py invoke [options] < event.json     one event; result on stdout, exit 1 on error
    local_runtime.py serve --port 9001 [options]       the Lambda Invoke API, warm runtimes

The function runs as in Lambda's python3.13 runtime: ``python3.13 -m awslambdaric HANDLER``
(Amazon's runtime interface client) in a clean process whose sys.path is the task root (the
extracted zip, LAMBDA_TASK_ROOT) then the runtime's own packages. Neither the dev venv nor any
site-packages is on it. The client talks to the Runtime API served here on loopback.

Like Lambda: reserved environment variables, START/END/REPORT lines with measured Max Memory
Used and Init Duration on a cold start, the timeout enforced by killing the runtime (the next
invoke is a cold start), and errors as Lambda's error JSON.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import json
import math
import os
import queue
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_API = "/2018-06-01/runtime"
INVOKE_API = "/2015-03-31/functions/"
ACCOUNT = "123456789012"
LOG_TAIL_BYTES = 4096


def say(message: str) -> None:
    print(f"local-runtime: {message}", file=sys.stderr, flush=True)


# -- the runtime's own packages (like /var/runtime) ---------------------------------------------
def runtime_packages(python: str) -> Path:
    """awslambdaric and its dependencies, as locked in the optional 'runtime' Poetry group."""
    lock = (ROOT / "poetry.lock").read_bytes()
    tag = hashlib.sha256(lock).hexdigest()[:12]
    target = ROOT / ".cache" / "lambda-runtime" / f"{os.uname().machine}-{tag}"
    if (target / "awslambdaric").is_dir():
        return target
    sys.path.insert(0, str(ROOT / "scripts"))
    from build import BuildError, export_requirements

    say(f"installing the runtime interface client (poetry group 'runtime') into {target}")
    with tempfile.TemporaryDirectory() as scratch:
        requirements = Path(scratch) / "runtime.txt"
        partial = Path(scratch) / "packages"
        try:
            export_requirements(ROOT, requirements, group="runtime")
        except BuildError as error:
            raise SystemExit(f"local-runtime: {error}") from None
        pip = [python, "-m", "pip"]
        venv_python = ROOT / ".venv" / "bin" / "python"
        if subprocess.run([*pip, "--version"], capture_output=True, check=False).returncode:
            pip = [str(venv_python), "-m", "pip"]
        done = subprocess.run(
            [
                *pip,
                "install",
                "--quiet",
                "--require-hashes",
                "--no-deps",
                "--only-binary=:all:",
                "--no-compile",
                "--target",
                str(partial),
                "-r",
                str(requirements),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise SystemExit(f"local-runtime: pip failed:\n{done.stderr[-2000:]}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(partial, target)
    return target


def find_python313() -> str:
    done = subprocess.run(
        [str(ROOT / "scripts" / "find_python313.sh")], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(done.stderr.strip())
    return done.stdout.strip()


# -- environment --------------------------------------------------------------------------------
class EnvFileError(SystemExit):
    """A line of the env file that is not KEY=VALUE; the message names the file and line."""


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines read as docker compose reads them, with python-dotenv's parser: `#`
    comments, `KEY=value # note` (a space before `#`), both quote styles, `export KEY=…`, and
    `${VAR}` expanded in unquoted and double-quoted values (single-quoted ones are literal). A
    line that is not KEY=VALUE is an error; its text is not shown, as it may hold a secret."""
    import io

    from dotenv.parser import parse_stream
    from dotenv.variables import parse_variables

    try:
        text = path.read_text()
    except OSError as error:
        raise EnvFileError(f"{path}: cannot read the env file: {error.strerror}") from None
    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.error or (binding.key is not None and binding.value is None):
            raise EnvFileError(f"{path}:{binding.original.line}: not a KEY=VALUE line")
        if binding.key is None or binding.value is None:
            continue  # a comment or a blank line
        literal = binding.original.string.partition("=")[2].lstrip().startswith("'")
        known = {**os.environ, **values}
        values[binding.key] = (
            binding.value
            if literal
            else "".join(atom.resolve(known) for atom in parse_variables(binding.value))
        )
    return values


@dataclass
class FunctionSpec:
    task_root: Path
    handler: str = "pigeon.handler.handler"
    name: str = "pigeon"
    memory_mb: int = 256
    timeout_s: float = 30.0
    region: str = "us-west-2"
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{self.name}"


# What Lambda passes through from its own environment; the caller's others are not inherited.
PASSED_THROUGH = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
)


def lambda_environment(spec: FunctionSpec, api: str, runtime_dir: Path) -> dict[str, str]:
    today = datetime.datetime.now(datetime.UTC).strftime("%Y/%m/%d")
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LD_LIBRARY_PATH": f"{spec.task_root}:{spec.task_root}/lib",
        "PYTHONPATH": str(runtime_dir),
        "LAMBDA_TASK_ROOT": str(spec.task_root),
        "LAMBDA_RUNTIME_DIR": str(runtime_dir),
        "_HANDLER": spec.handler,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_RUNTIME_API": api,
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{today}/[$LATEST]{secrets.token_hex(16)}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
    }
    env.update({k: os.environ[k] for k in PASSED_THROUGH if k in os.environ})
    env.update(spec.environment)
    return env


# -- the Runtime API, one server per sandbox ----------------------------------------------------
@dataclass
class Invocation:
    request_id: str
    event: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str
    handed_out: float = 0.0
    finished: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)
    result: bytes | None = None
    error: bytes | None = None
    error_type: str | None = None


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A killed runtime (timeout, shutdown) resets its keep-alive connection: not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class RuntimeAPI(_QuietServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RuntimeAPIHandler)
        self.pending: queue.Queue[Invocation | None] = queue.Queue()
        self.current: Invocation | None = None
        self.first_next = threading.Event()
        self.init_error: bytes | None = None
        self.init_error_event = threading.Event()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class _NoDelayHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive without Nagle: headers and body go out in separate writes, and
    Nagle plus delayed ACKs would add about 40 ms to every exchange."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _RuntimeAPIHandler(_NoDelayHandler):
    server: RuntimeAPI

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _accepted(self) -> None:
        self._send(HTTPStatus.ACCEPTED, b'{"status":"OK"}', {"Content-Type": "application/json"})

    def do_GET(self) -> None:
        if self.path != f"{RUNTIME_API}/invocation/next":
            self._send(HTTPStatus.NOT_FOUND)
            return
        self.server.first_next.set()
        invocation = self.server.pending.get()
        if invocation is None:  # shutting down: leave the client waiting, as Lambda freezes it
            return
        invocation.handed_out = time.perf_counter()
        self.server.current = invocation
        self._send(
            HTTPStatus.OK,
            invocation.event,
            {
                "Content-Type": "application/json",
                "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
                "Lambda-Runtime-Trace-Id": invocation.trace_id,
            },
        )

    def do_POST(self) -> None:
        body = self._body()
        if self.path == f"{RUNTIME_API}/init/error":
            self.server.init_error = body
            self.server.init_error_event.set()
            self._accepted()
            return
        prefix = f"{RUNTIME_API}/invocation/"
        current = self.server.current
        if not self.path.startswith(prefix) or self.path.count("/") != 5:
            self._send(HTTPStatus.NOT_FOUND)
            return
        request_id, _, kind = self.path[len(prefix) :].partition("/")
        if current is None or request_id != current.request_id or current.done.is_set():
            self._send(
                HTTPStatus.BAD_REQUEST,
                json.dumps(
                    {
                        "errorMessage": f"Invalid request ID: {request_id}",
                        "errorType": "InvalidRequestID",
                    }
                ).encode(),
            )
            return
        if kind == "response":
            current.result = body
        elif kind == "error":
            current.error = body
            current.error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
        else:
            self._send(HTTPStatus.NOT_FOUND)
            return
        current.finished = time.perf_counter()
        self.server.current = None
        current.done.set()
        self._accepted()


# -- a sandbox: one runtime process with its Runtime API ----------------------------------------
@dataclass
class Outcome:
    request_id: str
    payload: bytes
    error: bool
    logs: str
    report: str


def error_json(message: str, error_type: str, request_id: str = "") -> bytes:
    return json.dumps(
        {
            "errorMessage": message,
            "errorType": error_type,
            "requestId": request_id,
            "stackTrace": [],
        }
    ).encode()


def peak_rss_mb(pid: int) -> int:
    """VmHWM: the process's peak resident memory, as Lambda's Max Memory Used reports it."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return math.ceil(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return 0


class Sandbox:
    """One execution environment: cold on the first invoke, warm after, dead after a timeout."""

    def __init__(
        self, spec: FunctionSpec, python: str, runtime_dir: Path, echo: bool = True
    ) -> None:
        self.spec = spec
        self.python = python
        self.runtime_dir = runtime_dir
        self.echo = echo
        self.api: RuntimeAPI | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.init_ms: float | None = None
        self.init_memory = 0
        self._log_lines: list[str] = []
        self._log_lock = threading.Lock()

    # Output of the function: echoed to stderr and kept for the invocation's log tail. The
    # pipe is read and logged under one lock, so `_drain` can tell when all of it is through.
    def _log(self, line: str) -> None:
        with self._log_lock:
            self._emit(line)

    def _emit(self, line: str) -> None:
        self._log_lines.append(line)
        if self.echo:
            sys.stderr.write(line)
            sys.stderr.flush()

    def _pump_output(self, stream: Any) -> None:
        fd = stream.fileno()
        pending = b""
        while True:
            select.select([fd], [], [])
            with self._log_lock:
                chunk = os.read(fd, 65536)
                if not chunk:
                    if pending:
                        self._emit(pending.decode("utf-8", "replace"))
                    return
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    self._emit(line.decode("utf-8", "replace") + "\n")

    def _drain(self, limit: float = 0.05) -> None:
        """Wait until everything the function wrote has been logged (or `limit` passed)."""
        if self.process is None or self.process.stdout is None:
            return
        fd = self.process.stdout.fileno()
        ends = time.monotonic() + limit
        while time.monotonic() < ends:
            with self._log_lock:
                try:
                    if not select.select([fd], [], [], 0)[0]:
                        return
                except (OSError, ValueError):
                    return
            time.sleep(0.0002)

    def _take_logs(self) -> str:
        with self._log_lock:
            text = "".join(self._log_lines)
            self._log_lines.clear()
        return text

    @property
    def warm(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _start(self, deadline: float) -> bytes | None:
        """Cold start; returns an init error JSON, or None when the runtime waits for events."""
        self.api = RuntimeAPI()
        threading.Thread(target=self.api.serve_forever, daemon=True).start()
        env = lambda_environment(self.spec, self.api.address, self.runtime_dir)
        started = time.perf_counter()
        self.process = subprocess.Popen(
            # -S: no site-packages of the interpreter; sys.path is the task root (cwd, by -m)
            # then PYTHONPATH (the runtime's packages), then the standard library.
            [self.python, "-S", "-m", "awslambdaric", self.spec.handler],
            cwd=self.spec.task_root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        threading.Thread(target=self._pump_output, args=(self.process.stdout,), daemon=True).start()
        while not self.api.first_next.is_set():
            if self.api.init_error_event.is_set():
                break
            if self.process.poll() is not None or time.monotonic() > deadline:
                break
            self.api.first_next.wait(0.005)
        self.init_ms = (time.perf_counter() - started) * 1000
        if self.api.first_next.is_set():
            return None
        self.init_memory = peak_rss_mb(self.process.pid)
        if self.api.init_error_event.wait(0.5) and self.api.init_error:
            error = self.api.init_error
        elif self.process.poll() is not None:
            error = error_json(
                f"Runtime exited with error: exit status {self.process.returncode}",
                "Runtime.ExitError",
            )
        else:
            error = error_json("Init timed out", "Runtime.InitTimeout")
        self.kill()
        return error

    def invoke(self, event: bytes, request_id: str | None = None) -> Outcome:
        request_id = request_id or str(uuid.uuid4())
        timeout = self.spec.timeout_s
        cold = not self.warm
        start_deadline = time.monotonic() + max(timeout, 10.0)
        if cold:
            self._log("INIT_START Runtime Version: python:3.13.local\tRuntime Version ARN: local\n")
        init_error = self._start(start_deadline) if cold else None
        self._log(f"START RequestId: {request_id} Version: $LATEST\n")
        if init_error is not None:
            return self._finish(request_id, init_error, True, 0.0, cold, memory=self.init_memory)
        assert self.api is not None
        assert self.process is not None
        now_ms = int(time.time() * 1000)
        invocation = Invocation(
            request_id=request_id,
            event=event,
            deadline_ms=now_ms + int(timeout * 1000),
            function_arn=self.spec.arn,
            trace_id=f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Sampled=0",
        )
        handed = time.perf_counter()
        self.api.pending.put(invocation)
        ends = handed + timeout
        while not invocation.done.wait(0.005):
            if time.perf_counter() >= ends or self.process.poll() is not None:
                break
        if invocation.done.is_set():
            duration = (invocation.finished - (invocation.handed_out or handed)) * 1000
            if invocation.error is not None:
                return self._finish(request_id, invocation.error, True, duration, cold)
            return self._finish(request_id, invocation.result or b"null", False, duration, cold)
        duration = (time.perf_counter() - handed) * 1000
        if self.process.poll() is not None:
            payload = error_json(
                f"Runtime exited with error: exit status {self.process.returncode}",
                "Runtime.ExitError",
                request_id,
            )
            return self._finish(request_id, payload, True, duration, cold)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        message = f"{stamp} {request_id} Task timed out after {timeout:.2f} seconds"
        memory = peak_rss_mb(self.process.pid)
        self.kill()  # the next invoke is a cold start
        self._log(message + "\n")
        return self._finish(
            request_id,
            error_json(message, "Sandbox.Timedout", request_id),
            True,
            duration,
            cold,
            memory=memory,
        )

    def _finish(
        self,
        request_id: str,
        payload: bytes,
        error: bool,
        duration_ms: float,
        cold: bool,
        memory: int | None = None,
    ) -> Outcome:
        if memory is None:
            memory = peak_rss_mb(self.process.pid) if self.process else 0
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {math.ceil(duration_ms) or 1} ms\t"
            f"Memory Size: {self.spec.memory_mb} MB\tMax Memory Used: {memory} MB"
        )
        if cold and self.init_ms is not None:
            report += f"\tInit Duration: {self.init_ms:.2f} ms"
        self._drain()  # the function's last log lines come before END, as in CloudWatch
        self._log(f"END RequestId: {request_id}\n")
        self._log(report + "\n")
        return Outcome(request_id, payload, error, self._take_logs(), report)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self.api is not None:
            self.api.pending.put(None)
            self.api.shutdown()
            self.api.server_close()
            self.api = None


# -- task root ----------------------------------------------------------------------------------
@contextmanager
def task_root(path: Path) -> Iterator[Path]:
    """A directory is used as it is; a zip is extracted to a temporary one, as Lambda does."""
    if path.is_dir():
        yield path.resolve()
        return
    if not zipfile.is_zipfile(path):
        raise SystemExit(f"local-runtime: {path} is neither a directory nor a zip")
    with tempfile.TemporaryDirectory(prefix="lambda-task-") as root:
        with zipfile.ZipFile(path) as archive:
            archive.extractall(root)
        yield Path(root)


# -- the Invoke API (stay-open mode) ------------------------------------------------------------
class InvokeAPI(_QuietServer):
    def __init__(self, port: int, sandboxes: list[Sandbox]) -> None:
        super().__init__(("127.0.0.1", port), _InvokeAPIHandler)
        # Last in, first out: like Lambda, reuse the environment that was warm most recently.
        self.idle: queue.LifoQueue[Sandbox] = queue.LifoQueue()
        for sandbox in sandboxes:
            self.idle.put(sandbox)
        self.sandboxes = sandboxes
        self.function_name = sandboxes[0].spec.name


class _InvokeAPIHandler(_NoDelayHandler):
    server: InvokeAPI

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _aws_error(self, status: int, error_type: str, message: str) -> None:
        self._send(
            status,
            json.dumps({"Type": "User", "message": message}).encode(),
            {"x-amzn-ErrorType": error_type},
        )

    def do_GET(self) -> None:
        self._send(
            HTTPStatus.OK, b'{"status":"OK"}'
        ) if self.path == "/health" else self._aws_error(
            HTTPStatus.NOT_FOUND, "ResourceNotFoundException", "not found"
        )

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?")[0]
        if not (path.startswith(INVOKE_API) and path.endswith("/invocations")):
            self._aws_error(HTTPStatus.NOT_FOUND, "UnknownOperationException", "unknown path")
            return
        name = path[len(INVOKE_API) : -len("/invocations")].split(":")[-1]
        if name not in (self.server.function_name, "function"):
            self._aws_error(
                HTTPStatus.NOT_FOUND, "ResourceNotFoundException", f"Function not found: {name}"
            )
            return
        kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if kind == "DryRun":
            self._send(HTTPStatus.NO_CONTENT, b"")
            return
        try:
            sandbox = self.server.idle.get_nowait()
        except queue.Empty:
            self._aws_error(
                HTTPStatus.TOO_MANY_REQUESTS, "TooManyRequestsException", "Rate Exceeded."
            )
            return
        if kind == "Event":
            self._send(HTTPStatus.ACCEPTED, b"")
            threading.Thread(target=self._run, args=(sandbox, body), daemon=True).start()
            return
        outcome = self._run(sandbox, body)
        headers = {"X-Amz-Executed-Version": "$LATEST", "x-amzn-RequestId": outcome.request_id}
        if outcome.error:
            headers["X-Amz-Function-Error"] = "Unhandled"
        if self.headers.get("X-Amz-Log-Type") == "Tail":
            tail = outcome.logs.encode()[-LOG_TAIL_BYTES:]
            headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
        self._send(HTTPStatus.OK, outcome.payload, headers)

    def _run(self, sandbox: Sandbox, body: bytes) -> Outcome:
        try:
            return sandbox.invoke(body)
        finally:
            self.server.idle.put(sandbox)


# -- command line -------------------------------------------------------------------------------
def caller_settings(names: frozenset[str], prefix: str) -> dict[str, str]:
    """The function's own settings from the caller's environment, which override the env file.
    Anything else with the function's prefix (the tools' own PIGEONTOOLS_*, a typo) stays out."""
    ignored = sorted(k for k in os.environ if k.startswith(prefix) and k not in names)
    if ignored:
        say(f"not passed to the function (not among its settings): {', '.join(ignored)}")
    return {k: v for k, v in os.environ.items() if k in names}


def build_spec(args: argparse.Namespace, root: Path) -> FunctionSpec:
    from pigeon import settings

    environment = read_env_file(args.env_file) if args.env_file else {}
    environment.update(caller_settings(settings.NAMES, settings.PREFIX))
    return FunctionSpec(
        task_root=root,
        handler=args.handler,
        name=args.function_name,
        memory_mb=args.memory,
        timeout_s=args.timeout,
        region=args.region,
        environment=environment,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("invoke", "serve"))
    parser.add_argument(
        "--task-root",
        type=Path,
        default=ROOT / "build",
        help="the extracted function or its zip (default: build/)",
    )
    parser.add_argument("--handler", default="pigeon.handler.handler")
    parser.add_argument("--function-name", default="pigeon")
    parser.add_argument(
        "--env-file",
        type=Path,
        help="KEY=VALUE lines; PIGEON_* in the caller's environment override them",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds (Lambda: 1-900)")
    parser.add_argument("--memory", type=int, default=256, help="MB, reported (Lambda: 128-10240)")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", "us-west-2"))
    parser.add_argument("--event", type=Path, help="read the event from a file, not stdin")
    parser.add_argument("--port", type=int, default=9001, help="serve: the Invoke API port")
    parser.add_argument("--concurrency", type=int, default=1, help="serve: execution environments")
    args = parser.parse_args(argv)
    if not 1 <= args.timeout <= 900:
        parser.error("--timeout must be from 1 to 900 seconds")
    if not 128 <= args.memory <= 10240:
        parser.error("--memory must be from 128 to 10240 MB")
    package = args.handler.split(".")[0]
    if (
        args.task_root.is_dir()
        and not (args.task_root / package).exists()
        and not (args.task_root / f"{package}.py").exists()
    ):
        say(f"warning: {args.task_root} has no {package}; was it built (make build)?")
    python = find_python313()
    runtime_dir = runtime_packages(python)
    with task_root(args.task_root) as root:
        spec = build_spec(args, root)
        if args.command == "invoke":
            event = args.event.read_bytes() if args.event else sys.stdin.buffer.read()
            try:
                json.loads(event or b"{}")
            except ValueError:
                parser.error("the event is not JSON")
            sandbox = Sandbox(spec, python, runtime_dir)
            try:
                outcome = sandbox.invoke(event or b"{}")
            finally:
                sandbox.kill()
            sys.stdout.buffer.write(outcome.payload + b"\n")
            sys.stdout.flush()
            return 1 if outcome.error else 0
        sandboxes = [Sandbox(spec, python, runtime_dir) for _ in range(args.concurrency)]
        server = InvokeAPI(args.port, sandboxes)
        say(
            f"Invoke API on http://127.0.0.1:{server.server_address[1]}{INVOKE_API}"
            f"{spec.name}/invocations ({args.concurrency} environment(s)); Ctrl-C to stop"
        )
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            for sandbox in sandboxes:
                sandbox.kill()
            server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
