"""The burst figure: crash events (one S3 record each, as S3 sends them) posted at once as Event
invocations to the local Invoke API (`scripts/local_runtime.py serve`, the built zip), at
concurrency 1, 2, 4 and 8, against a private RabbitMQ node the bench starts for it (the same
Debian rabbitmq-server as the local broker; nothing else connects as the function's user).

For each concurrency: ids/s end to end (first invoke to last confirm), cold starts (the Invoke
API's count), the broker's peak connection count (counted by the broker itself from its
connection events, so no spike is missed, and `rabbitmqctl list_connections` at the end),
p50/p99 from invoke to confirm (an id's arrival on the queue), ids lost and duplicated, and the
CPU each part used (the function runtimes, the serve process, the broker, the bench itself).
Read against, in the same run: one environment invoked back to back with the same events (no
Invoke API, no queue), and the limit, raw pika pipelined over the same number of connections.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import PIPE
from typing import Any

import pika

from pigeon_tools import events, net, queues
from pigeon_tools.bench import limits
from pigeon_tools.bench.report import markdown_table
from pigeon_tools.bench.stats import percentile
from pigeon_tools.broker import node as nodes
from pigeon_tools.lambda_local import function
from pigeon_tools.lambda_local.sandbox import Sandbox
from pigeon_tools.lambda_local.spec import FunctionSpec
from pigeon_tools.paths import SCRIPTS

CONCURRENCIES = (1, 2, 4, 8)
EVENTS = 10_000
SINGLE_EVENTS = 2_000  # the back-to-back baseline: enough for a steady rate
FLAT = 1.25  # doubling the concurrency gains less than this: the figure has flattened
NEAR_LIMIT = 0.5  # this share of the raw pika limit or more: the broker is what limits
TICK = os.sysconf("SC_CLK_TCK")
USER = "pigeon-burst"

Say = Callable[[str], None]

# Runs inside the broker: the peak of the function user's connections, counted from the
# broker's own connection_created and connection_closed events (rabbit_event, what the
# management plugin listens to), not sampled: a spike between two samples would be missed. A
# gen_event handler, compiled in the broker on first use; it starts from the user's connections
# open at that moment (rabbit_networking:connections/0, what `rabbitmqctl list_connections`
# lists) and is removed when asked for the peak, or when the next one starts.
_PEAK_MODULE = (
    "-module(pigeon_burst_peak). -behaviour(gen_event). "
    "-export([init/1, handle_event/2, handle_call/2, handle_info/2, terminate/2, "
    "code_change/3]). "
    "init({User, Open}) -> {ok, {User, Open, maps:size(Open)}}. "
    "handle_event({event, connection_created, Props, _, _}, {User, Open, Peak}) -> "
    "case proplists:get_value(user, Props) of "
    "User -> Now = maps:put(proplists:get_value(pid, Props), true, Open), "
    "{ok, {User, Now, max(Peak, maps:size(Now))}}; "
    "_ -> {ok, {User, Open, Peak}} end; "
    "handle_event({event, connection_closed, Props, _, _}, {User, Open, Peak}) -> "
    "{ok, {User, maps:remove(proplists:get_value(pid, Props), Open), Peak}}; "
    "handle_event(_, State) -> {ok, State}. "
    "handle_call(peak, {_, _, Peak} = State) -> {ok, Peak, State}. "
    "handle_info(_, State) -> {ok, State}. "
    "terminate(_, _) -> ok. "
    "code_change(_, State, _) -> {ok, State}."
)
_SAMPLER = (
    "case code:is_loaded(pigeon_burst_peak) of false -> "
    f'{{ok, Tokens, _}} = erl_scan:string("{_PEAK_MODULE}"), '
    "Split = fun Loop([], [], Forms) -> lists:reverse(Forms); "
    "Loop([{dot, _} = Dot | Rest], Acc, Forms) -> "
    "{ok, Form} = erl_parse:parse_form(lists:reverse([Dot | Acc])), "
    "Loop(Rest, [], [Form | Forms]); "
    "Loop([Token | Rest], Acc, Forms) -> Loop(Rest, [Token | Acc], Forms) end, "
    "{ok, Module, Binary} = compile:forms(Split(Tokens, [], [])), "
    '{module, Module} = code:load_binary(Module, "pigeon_burst_peak.erl", Binary); '
    "_ -> ok end, "
    'User = <<"%s">>, '
    "gen_event:delete_handler(rabbit_event, pigeon_burst_peak, stop), "
    "Open = maps:from_list([{C, true} || C <- rabbit_networking:connections(), "
    "rabbit_networking:connection_info(C, [user]) =:= [{user, User}]]), "
    "ok = gen_event:add_handler(rabbit_event, pigeon_burst_peak, {User, Open})."
)
_PEAK = (
    "Peak = gen_event:call(rabbit_event, pigeon_burst_peak, peak, 10000), "
    "gen_event:delete_handler(rabbit_event, pigeon_burst_peak, stop), Peak."
)


def available() -> str:
    """Why the figure cannot run here ("" when it can)."""
    return "" if nodes.installed() else "Debian's rabbitmq-server is not installed"


# -- the broker ------------------------------------------------------------------------------
@dataclass
class BurstBroker:
    node: nodes.Node
    password: str

    @property
    def url(self) -> str:
        """The bench's own connections (consumer, limit): not the function's user."""
        return self.node.url()

    @property
    def function_url(self) -> str:
        return self.node.url(USER, self.password)

    def start_sampling(self) -> None:
        self.node.ctl("eval", _SAMPLER % USER)

    def peak(self) -> int:
        """The peak since start_sampling (which it ends)."""
        found = self.node.ctl("eval", _PEAK).strip()
        if not found.isdigit():
            raise RuntimeError(f"the broker's connection count failed: {found[:300]}")
        return int(found)

    def listed(self) -> int:
        """`rabbitmqctl list_connections user`: the function user's connections now."""
        return self.node.ctl("list_connections", "user").split().count(USER)

    def cpu_s(self) -> float:
        pid = self.node.vm_pid()
        return process_cpu_s(pid) if pid else 0.0


@contextlib.contextmanager
def private_broker(workdir: Path) -> Iterator[BurstBroker]:
    """A RabbitMQ node of our own on free ports, with the function's user; stopped by PID."""
    base = workdir / "rabbitmq"
    epmd = nodes.Epmd(net.free_port()).start()
    node = nodes.Node(f"pigeon-burst-{net.free_port()}", net.free_port(), base, epmd.port, base)
    try:
        node.start().wait_ready(120)
        password = secrets.token_urlsafe(18)
        node.ctl("add_user", USER, password)
        node.ctl("set_permissions", "-p", "/", USER, ".*", ".*", ".*")
        yield BurstBroker(node, password)
    finally:
        node.stop()
        epmd.stop()


# -- CPU -------------------------------------------------------------------------------------
def process_cpu_s(pid: int) -> float:
    """utime + stime of a live process, in seconds (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy_s() -> float:
    """CPU seconds every core of the machine spent busy since boot (all processes)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / TICK


def own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


# -- the function, served ------------------------------------------------------------------
class Served:
    """`local_runtime.py serve` running Pigeon's task root at a concurrency."""

    def __init__(self, task_root: Path, concurrency: int, settings: dict[str, str], log: Path):
        env_file = log.with_suffix(".env")
        env_file.write_text("")  # the function's environment is `settings`, nothing of pigeon.env
        environ = {k: v for k, v in os.environ.items() if not k.startswith("PIGEON")}
        argv = [
            sys.executable, str(SCRIPTS / "local_runtime.py"), "serve", "--port", "0",
            "--task-root", str(task_root), "--env-file", str(env_file),
            "--concurrency", str(concurrency), "--timeout", "30",
        ]  # fmt: skip
        self.log = log.open("w+")
        self.process = subprocess.Popen(argv, stderr=self.log, env={**environ, **settings})
        found = None
        for _ in range(1200):
            self.log.seek(0)
            found = re.search(r"http://127\.0\.0\.1:(\d+)(\S+/invocations)", self.log.read())
            if found or self.process.poll() is not None:
                break
            time.sleep(0.05)
        if found is None:
            self.close()
            raise RuntimeError(f"the Invoke API did not start; see {log}")
        self.port, self.path = int(found.group(1)), found.group(2)

    def stats(self) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.port}/local/stats"
        with urllib.request.urlopen(url, timeout=30) as response:
            return dict(json.loads(response.read()))

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(60)
        self.log.close()


class Consumer:
    """The queue, consumed as the crash processor would: the first arrival of each id."""

    def __init__(self, url: str, queue: str) -> None:
        self.arrived: dict[str, float] = {}
        self.received = 0
        self._stop = threading.Event()
        self._connection = pika.BlockingConnection(pika.URLParameters(url))
        channel = self._connection.channel()
        channel.basic_qos(prefetch_count=2000)
        channel.basic_consume(queue, self._on_message, auto_ack=True)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _on_message(self, _channel: Any, _method: Any, _properties: Any, body: bytes) -> None:
        self.received += 1
        self.arrived.setdefault(body.decode(), time.perf_counter())

    def _run(self) -> None:
        while not self._stop.is_set():
            self._connection.process_data_events(time_limit=0.05)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(30)
        self._connection.close()


def _depth(url: str, queue: str) -> int:
    with queues.channel(url) as channel:
        return int(channel.queue_declare(queue, passive=True).method.message_count)


# -- one burst -------------------------------------------------------------------------------
def _payloads(n: int) -> list[tuple[str, bytes]]:
    ids = [events.new_crash_id("accept") for _ in range(n)]
    return [(i, json.dumps(events.for_crash_ids([i])).encode()) for i in ids]


def _settings(broker: BurstBroker, queue: str) -> dict[str, str]:
    return function.environment(
        broker.function_url, queue, PIGEON_ENV="bench", PIGEON_LOG_LEVEL="WARNING"
    )


def burst_at(
    task_root: Path, broker: BurstBroker, concurrency: int, n: int, workdir: Path, say: Say
) -> dict[str, Any]:
    """n events posted at once to the Invoke API at this concurrency, until every id is on
    the queue (or nothing is left to run)."""
    queue = f"burst.{uuid.uuid4().hex[:8]}"
    queues.declare(broker.url, queue)
    payloads = _payloads(n)
    log = workdir / f"serve-{concurrency}-{uuid.uuid4().hex[:6]}.log"
    served = Served(task_root, concurrency, _settings(broker, queue), log)
    consumer = Consumer(broker.url, queue)
    try:
        broker.start_sampling()
        cpu = {
            "machine": machine_busy_s(),
            "broker": broker.cpu_s(),
            "serve": process_cpu_s(served.process.pid),
            "bench": own_cpu_s(),
        }
        sent: dict[str, float] = {}
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=60)
        headers = {"X-Amz-Invocation-Type": "Event", "Content-Type": "application/json"}
        started = time.perf_counter()
        for crash_id, body in payloads:
            sent[crash_id] = time.perf_counter()
            connection.request("POST", served.path, body, headers)
            response = connection.getresponse()
            response.read()
            if response.status != 202:
                raise RuntimeError(f"the Invoke API answered {response.status} to an Event")
        connection.close()
        posted = time.perf_counter() - started
        _wait_for_ids(served, consumer, n, concurrency, say)
        ended = max(consumer.arrived.values(), default=time.perf_counter())
        wall = ended - started
        stats = served.stats()
        pids = [e["pid"] for e in stats["environments"] if e["pid"]]
        used = {
            "function runtimes": sum(process_cpu_s(pid) for pid in pids),
            "serve process (Invoke and Runtime APIs)": (
                process_cpu_s(served.process.pid) - cpu["serve"]
            ),
            "RabbitMQ": broker.cpu_s() - cpu["broker"],
            "bench (sender, consumer)": own_cpu_s() - cpu["bench"],
        }
        machine = machine_busy_s() - cpu["machine"]
        # Never clamped: the parts add up to the machine's busy time (negative: measured apart,
        # they overshoot it).
        used["everything else on the machine"] = machine - sum(used.values())
        # Every invocation finished: a duplicate would be on the queue by now.
        net.wait_until(lambda: served.stats()["async"]["pending"] == 0, 300, 0.1)
        net.wait_until(lambda: _depth(broker.url, queue) == 0, 60, 0.05)
        peak, listed = broker.peak(), broker.listed()
        final = served.stats()
    finally:
        consumer.close()
        served.close()
    latencies = [(consumer.arrived[i] - sent[i]) * 1000 for i in sent if i in consumer.arrived]
    queues.delete(broker.url, queue)
    return {
        "concurrency": concurrency,
        "events": n,
        "ids_per_s": len(consumer.arrived) / wall,
        "seconds": wall,
        "posting_s": posted,
        "cold_starts": final["cold_starts"],
        "environments": len(final["environments"]),
        "throttles": final["throttles"],
        "peak_connections": peak,
        "connections_at_end": listed,
        "p50_ms": percentile(latencies, 50) if latencies else 0.0,
        "p99_ms": percentile(latencies, 99) if latencies else 0.0,
        "lost": n - len(consumer.arrived),
        "duplicates": consumer.received - len(consumer.arrived),
        "failed_invocations": final["async"]["retries"] + final["async"]["given_up"],
        "cpu_s": used,
        "cores_busy": machine / wall,
        "cpu_ms_per_id": {k: v * 1000 / max(1, len(consumer.arrived)) for k, v in used.items()},
    }


def _wait_for_ids(served: Served, consumer: Consumer, n: int, concurrency: int, say: Say) -> None:
    """Until every id arrived, or nothing is left to run and the queue is empty."""
    last_note = last_check = time.monotonic()
    while len(consumer.arrived) < n:
        now = time.monotonic()
        if now - last_check > 0.5:
            last_check = now
            if served.stats()["async"]["pending"] == 0 and len(consumer.arrived) < n:
                net.wait_until(lambda: len(consumer.arrived) >= n, 2, 0.05)
                return
        if now - last_note > 10:
            last_note = now
            say(f"burst at concurrency {concurrency}: {len(consumer.arrived):,} of {n:,} ids")
        time.sleep(0.01)


# -- the baselines -------------------------------------------------------------------------
def single_environment(task_root: Path, broker: BurstBroker, n: int) -> float:
    """ids/s of one environment invoked back to back with the same events, in this process:
    the runtime and the function, no Invoke API, no queue."""
    queue = f"burst.{uuid.uuid4().hex[:8]}"
    queues.declare(broker.url, queue)
    payloads = _payloads(n + 1)
    spec = FunctionSpec(task_root, function.HANDLER, name="pigeon", timeout_s=30,
                        environment=_settings(broker, queue))  # fmt: skip
    with Sandbox(spec) as box:
        assert box.invoke(payloads[0][1]).ok  # the cold start, not counted
        started = time.perf_counter()
        for _, body in payloads[1:]:
            outcome = box.invoke(body)
            assert outcome.ok, outcome.payload
        elapsed = time.perf_counter() - started
    queues.delete(broker.url, queue)
    return n / elapsed


def limit_child(url: str, queue: str, n: str) -> None:
    """One connection of the limit, in its own process: "ready" once pika is imported, then
    on "go" (stdin) n messages pipelined; prints their rate (first publish to last confirm,
    neither the connection's opening nor its closing)."""
    print("ready", flush=True)
    sys.stdin.readline()
    print(limits.pipelined(url, queue, int(n), 1)[0], flush=True)


_CHILD = "import sys; sys.path.insert(0, sys.argv[1]); from pigeon_tools.bench import burst; "
_CHILD += "burst.limit_child(*sys.argv[2:])"


def pipelined_over(broker: BurstBroker, connections: int, n: int) -> float:
    """The limit: n messages, raw pika pipelined (all published, then all confirmed) over this
    many connections at once, one process each (as one environment is one process), started
    together: the sum of their rates."""
    queue = f"burst.limit.{uuid.uuid4().hex[:8]}"
    queues.declare(broker.url, queue)
    shares = [n // connections + (k < n % connections) for k in range(connections)]
    argv = [sys.executable, "-c", _CHILD, str(SCRIPTS), broker.url, queue]
    children = [
        subprocess.Popen([*argv, str(share)], stdin=PIPE, stdout=PIPE, text=True)
        for share in shares
    ]
    try:
        for child in children:  # all have imported pika: start them together
            assert child.stdout is not None
            if child.stdout.readline().strip() != "ready":
                raise RuntimeError("a raw pika process of the limit did not start")
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        rates = []
        for child in children:
            out, _ = child.communicate(timeout=300)
            if child.returncode != 0:
                raise RuntimeError("a raw pika process of the limit failed")
            rates.append(float(out))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    queues.delete(broker.url, queue)
    return sum(rates)


# -- the figure --------------------------------------------------------------------------------
def measure(
    task_root: Path,
    broker: BurstBroker,
    n: int = EVENTS,
    concurrencies: tuple[int, ...] = CONCURRENCIES,
    say: Say = print,
) -> dict[str, Any]:
    """One run of the figure: the baseline, then each concurrency with its limit."""
    with tempfile.TemporaryDirectory(prefix="pigeon-burst-") as scratch:
        single = single_environment(task_root, broker, min(n, SINGLE_EVENTS))
        by: dict[str, dict[str, Any]] = {}
        for c in concurrencies:
            found = burst_at(task_root, broker, c, n, Path(scratch), say)
            found["limit_ids_per_s"] = pipelined_over(broker, c, n)
            found["limit_ratio"] = found["ids_per_s"] / found["limit_ids_per_s"]
            say(
                f"burst at concurrency {c}: {found['ids_per_s']:,.0f} ids/s, "
                f"{found['cold_starts']} cold starts, peak {found['peak_connections']} "
                f"connection(s), {found['lost']} lost, {found['duplicates']} duplicated"
            )
            by[str(c)] = found
    top = by[str(max(concurrencies))]
    run = {
        "events": n,
        "single_environment_ids_per_s": single,
        "by_concurrency": by,
        "first_ids_per_s": by[str(min(concurrencies))]["ids_per_s"],
        "top": top,
        "lost": sum(r["lost"] for r in by.values()),
        "duplicates": sum(r["duplicates"] for r in by.values()),
        "connections_per_environment_limit": max(
            max(r["peak_connections"], r["connections_at_end"]) / r["concurrency"]
            for r in by.values()
        ),
        "machine_cores": os.cpu_count() or 1,
    }
    run["flattening"] = flattening(run)
    return run


def flattening(run: dict[str, Any]) -> str:
    """Where the figure flattens and why, from the run's own measurements."""
    by = run["by_concurrency"]
    levels = sorted(int(c) for c in by)
    cores = run["machine_cores"]
    flat = next(
        (c for c, prev in zip(levels[1:], levels, strict=False)
         if by[str(c)]["ids_per_s"] < FLAT * by[str(prev)]["ids_per_s"]),
        None,
    )  # fmt: skip
    at = by[str(flat if flat is not None else levels[-1])]
    shares = sorted(at["cpu_s"].items(), key=lambda kv: -kv[1])
    where = ", ".join(f"{name} {seconds / at['seconds']:.2f}" for name, seconds in shares)
    per_id = sum(v for k, v in at["cpu_ms_per_id"].items() if not k.startswith("everything"))
    ceiling = cores * 1000 / per_id if per_id else 0.0
    if flat is None:
        head = f"No flattening up to concurrency {levels[-1]}"
    else:
        prev = levels[levels.index(flat) - 1]
        gain = at["ids_per_s"] / by[str(prev)]["ids_per_s"]
        head = f"Flattens at concurrency {flat} ({gain:.2f}x the ids/s of concurrency {prev})"
    why = (
        f"{head}: {at['cores_busy']:.2f} of {cores} cores busy (cores used: {where}). "
        f"Each id costs {per_id:.2f} ms of CPU across the runtimes, the serve process, the "
        f"broker and the bench, so {cores} cores top out near {ceiling:,.0f} ids/s"
    )
    if at["cores_busy"] >= 0.85 * cores:
        why += ": the machine is CPU-bound, and another environment is one more process "
        why += "sharing the same cores"
    serve = at["cpu_s"]["serve process (Invoke and Runtime APIs)"] / at["seconds"]
    if serve >= 0.85:
        why += "; the serve process (one Python interpreter) is at a full core"
    why += ". " + against_baselines(run, at) + "."
    return why


def against_baselines(run: dict[str, Any], at: dict[str, Any]) -> str:
    """What the same run's baseline (one environment back to back) and limit (raw pika over
    as many connections) say about one concurrency's ids/s: each conclusion from the ratio it
    rests on, measured, not assumed."""
    single = run["single_environment_ids_per_s"]
    ratio = at["ids_per_s"] / at["limit_ids_per_s"] if at["limit_ids_per_s"] else 0.0
    gain = at["ids_per_s"] / single if single else 0.0
    c = at["concurrency"]
    text = (
        f"Against this run's baseline, one environment back to back ({single:,.0f} ids/s), "
        f"concurrency {c} gives {gain:.2f}x"
    )
    if gain < 1:
        text += ": fewer ids/s than one environment, so the Invoke API and its queue cost more "
        text += "than the extra environments bring"
    text += (
        f"; against its limit, raw pika pipelined over the same {c} connection(s) "
        f"({at['limit_ids_per_s']:,.0f} ids/s), {ratio:.2f}x"
    )
    if ratio >= NEAR_LIMIT:
        text += ": near what the broker takes over those connections, so the broker is the limit"
    else:
        text += (
            f": under {NEAR_LIMIT:.0%} of what the broker takes over those connections, so the "
            "broker is not the limit, the work per invocation is"
        )
    return text


def markdown(figure: dict[str, Any]) -> str:
    runs = figure["runs"]
    first = runs[0]
    header = ("concurrency", "ids/s (runs 1 / 2)", "raw pika, same connections", "of the limit",
              "cold starts", "peak connections", "p50 invoke to confirm", "p99", "lost",
              "duplicates", "cores busy")  # fmt: skip
    rows = []
    for c in first["by_concurrency"]:
        each = [run["by_concurrency"][c] for run in runs]
        rows.append((
            c,
            " / ".join(f"{r['ids_per_s']:,.0f}" for r in each),
            " / ".join(f"{r['limit_ids_per_s']:,.0f}" for r in each),
            " / ".join(f"{r['limit_ratio']:.3f}x" for r in each),
            " / ".join(str(r["cold_starts"]) for r in each),
            " / ".join(str(r["peak_connections"]) for r in each),
            " / ".join(f"{r['p50_ms'] / 1000:.2f} s" for r in each),
            " / ".join(f"{r['p99_ms'] / 1000:.2f} s" for r in each),
            " / ".join(str(r["lost"]) for r in each),
            " / ".join(str(r["duplicates"]) for r in each),
            " / ".join(f"{r['cores_busy']:.2f}" for r in each),
        ))  # fmt: skip
    single = " / ".join(f"{r['single_environment_ids_per_s']:,.0f}" for r in runs)
    text = (
        f"Bursts: {first['events']:,} crash events (one S3 record each) posted at once as Event "
        "invocations to the local Invoke API, on a private RabbitMQ node of the bench's (runs "
        f"1 / 2); one environment invoked back to back with the same events: {single} ids/s. "
        "Peak connections are the broker's own count (from its connection events); the "
        "latency includes the wait in the queue.\n\n"
    )
    text += markdown_table(header, rows)
    text += "\n\n" + flattening(first) + "\n\n![bursts](../bench/burst.png)"
    return text


def plot(figure: dict[str, Any], path: Path) -> None:
    """ids/s and the limit by concurrency (both runs), and p50/p99 invoke-to-confirm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    runs = figure["runs"]
    levels = [int(c) for c in runs[0]["by_concurrency"]]
    chart, (rate, latency) = plt.subplots(1, 2, figsize=(10, 3.6))
    for n, run in enumerate(runs, 1):
        by = [run["by_concurrency"][str(c)] for c in levels]
        rate.plot(levels, [r["ids_per_s"] for r in by], "o-", label=f"Pigeon, run {n}")
        rate.plot(levels, [r["limit_ids_per_s"] for r in by], "s--", color="0.5",
                  label=f"raw pika pipelined, run {n}")  # fmt: skip
        rate.axhline(run["single_environment_ids_per_s"], color="C2", linestyle=":", linewidth=1,
                     label=f"one environment back to back, run {n}")  # fmt: skip
        latency.plot(levels, [r["p50_ms"] / 1000 for r in by], "o-", label=f"p50, run {n}")
        latency.plot(levels, [r["p99_ms"] / 1000 for r in by], "^:", label=f"p99, run {n}")
    rate.set_yscale("log")
    rate.yaxis.set_major_formatter(ScalarFormatter())
    rate.yaxis.set_minor_formatter(NullFormatter())
    rate.set_xscale("log", base=2)
    rate.set_xticks(levels, [str(c) for c in levels])
    rate.set_xlabel("concurrency (environments, broker connections)")
    rate.set_ylabel("ids/s, invoke to confirm (log)")
    rate.set_title(f"{runs[0]['events']:,} Event invocations at once")
    rate.legend(fontsize=7)
    rate.grid(True, which="both", alpha=0.3)
    latency.set_xscale("log", base=2)
    latency.set_xticks(levels, [str(c) for c in levels])
    latency.set_xlabel("concurrency")
    latency.set_ylabel("s from invoke to confirm")
    latency.set_title("Latency in the burst (queueing included)")
    latency.legend(fontsize=7)
    latency.grid(True, alpha=0.3)
    chart.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    chart.savefig(path, dpi=100)
    plt.close(chart)
