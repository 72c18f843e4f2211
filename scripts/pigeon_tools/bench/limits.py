"""What the broker allows, measured with raw pika on the same broker in the same run: the limits
Pigeon's figures are read against.

- one persistent publish and its confirm on an already open channel to a durable queue: the
  broker's round trip, its fsync included (a BlockingConnection in confirm mode);
- pipelined: every message of an event published on one channel, then every confirm awaited
  (a SelectConnection, as nothing blocking can keep several messages in flight);
- what a cold start cannot avoid beyond Python and the runtime client: one connect (AMQP or
  TLS, the channel and confirm mode included) and one publish with its confirm in raw pika,
  and one GetSecretValue over HTTP with the standard library alone (against moto's server).
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import urlsplit

import pika

from pigeon_tools import events
from pigeon_tools.bench.stats import median, percentile


def confirm_each(url: str, queue: str, n: int) -> list[float]:
    """ms of each of n publish-and-confirm round trips on one open channel (after one that
    warms the channel), one message at a time: a BlockingConnection in confirm mode."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        ids = [events.new_crash_id() for _ in range(n + 1)]
        durations = []
        for crash_id in ids:
            properties = pika.BasicProperties(delivery_mode=2, message_id=crash_id)
            started = time.perf_counter()
            channel.basic_publish("", queue, crash_id.encode(), properties, mandatory=True)
            durations.append((time.perf_counter() - started) * 1000)
        channel.queue_purge(queue)
    finally:
        connection.close()
    return durations[1:]


def connect_and_publish(url: str, queue: str, n: int) -> dict[str, float]:
    """A cold start's broker work in raw pika, n times (medians, ms): a new connection with
    its channel in confirm mode (over TLS when the URL is amqps), then one persistent publish
    and its confirm."""
    connects, publishes = [], []
    for _ in range(n):
        crash_id = events.new_crash_id()
        started = time.perf_counter()
        connection = pika.BlockingConnection(pika.URLParameters(url))
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            opened = time.perf_counter()
            properties = pika.BasicProperties(delivery_mode=2, message_id=crash_id)
            channel.basic_publish("", queue, crash_id.encode(), properties, mandatory=True)
            confirmed = time.perf_counter()
            channel.queue_purge(queue)
        finally:
            connection.close()
        connects.append((opened - started) * 1000)
        publishes.append((confirmed - opened) * 1000)
    return {"connect_ms": median(connects), "publish_ms": median(publishes)}


def get_secret_value(endpoint: str, arn: str, region: str, n: int) -> float:
    """One GetSecretValue over HTTP with the standard library, n times on new connections:
    the median ms, the secret's JSON parsed. Unsigned (moto does not check signatures; SigV4's
    HMACs cost microseconds), with the credential scope that names the region."""
    where = urlsplit(endpoint)
    body = json.dumps({"SecretId": arn}).encode()
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "secretsmanager.GetSecretValue",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=moto/20250801/{region}/secretsmanager/"
        f"aws4_request, SignedHeaders=host;x-amz-target, Signature={'0' * 64}",
    }
    durations = []
    for _ in range(n):
        started = time.perf_counter()
        connection = http.client.HTTPConnection(where.hostname or "", where.port, timeout=10)
        try:
            connection.request("POST", "/", body, headers)
            response = connection.getresponse()
            answer = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(f"GetSecretValue: HTTP {response.status}: {answer[:200]!r}")
        json.loads(json.loads(answer)["SecretString"])
        durations.append((time.perf_counter() - started) * 1000)
    return median(durations)


def single_confirm(url: str, queue: str, n: int) -> dict[str, Any]:
    """The limit of a warm invoke: p50 of n publish-and-confirm round trips."""
    durations = confirm_each(url, queue, n)
    return {"p50_ms": percentile(durations, 50), "samples_ms": durations}


class _Pipeline:
    """Publish all, then wait for all confirms, on one SelectConnection channel."""

    def __init__(self, url: str, queue: str) -> None:
        self.queue = queue
        self.channel: Any = None
        self.acked = 0
        self.nacked = 0
        self._expected = 0
        self.connection = pika.SelectConnection(
            pika.URLParameters(url), on_open_callback=self._on_open
        )
        self._run_until(lambda: self.channel is not None, 10)

    def _on_open(self, connection: Any) -> None:
        connection.channel(on_open_callback=self._on_channel)

    def _on_channel(self, channel: Any) -> None:
        channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._ready(channel))

    def _ready(self, channel: Any) -> Any:
        def ready(_frame: Any) -> None:
            self.channel = channel
            self.connection.ioloop.stop()

        return ready

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        count = 1
        if method.multiple:
            count = method.delivery_tag - (self.acked + self.nacked)
        if isinstance(method, pika.spec.Basic.Ack):
            self.acked += count
        else:
            self.nacked += count
        if self.acked + self.nacked >= self._expected:
            self.connection.ioloop.stop()

    def _run_until(self, done: Any, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError("the broker did not answer in time")
            timer = self.connection.ioloop.call_later(0.5, self.connection.ioloop.stop)
            self.connection.ioloop.start()
            self.connection.ioloop.remove_timeout(timer)

    def publish(self, ids: list[str]) -> float:
        """Seconds from the first publish to the last confirm."""
        started = time.perf_counter()
        self._expected += len(ids)
        for crash_id in ids:
            properties = pika.BasicProperties(delivery_mode=2, message_id=crash_id)
            self.channel.basic_publish(
                "", self.queue, crash_id.encode(), properties, mandatory=True
            )
        self._run_until(lambda: self.acked + self.nacked >= self._expected, 60)
        elapsed = time.perf_counter() - started
        if self.nacked:
            raise RuntimeError(f"{self.nacked} message(s) nacked")
        return elapsed

    def close(self) -> None:
        self.connection.close()
        self._run_until(lambda: self.connection.is_closed, 10)


def pipelined(url: str, queue: str, records: int, rounds: int) -> list[float]:
    """ids/s of `rounds` events of `records` messages, each published and confirmed together."""
    pipeline = _Pipeline(url, queue)
    try:
        rates = []
        for _ in range(rounds):
            ids = [events.new_crash_id() for _ in range(records)]
            rates.append(records / pipeline.publish(ids))
    finally:
        pipeline.close()
    return rates
