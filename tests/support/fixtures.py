"""Session fixtures: one RabbitMQ node (with a TLS listener) and a three-node cluster, each
started on first use and stopped at the end by PID, Pigeon's own broker user, moto's server,
the function's task root."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pigeon_tools import archive, moto_server, net
from pigeon_tools.broker import node as nodes
from pigeon_tools.broker import tls
from pigeon_tools.broker.cluster import Cluster
from pigeon_tools.paths import ZIP
from support import evidence
from support.broker import Broker
from support.cluster import TestCluster
from support.local_pigeon import LocalPigeon


@pytest.fixture(scope="session")
def epmd() -> Iterator[nodes.Epmd]:
    """The tests' own Erlang port mapper: nothing of a developer's node is touched."""
    mapper = nodes.Epmd(net.free_port()).start()
    yield mapper
    mapper.stop()


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory, epmd: nodes.Epmd) -> Iterator[Broker]:
    base = tmp_path_factory.mktemp("rabbitmq")
    node = nodes.Node(
        f"pigeon-test-{net.free_port()}",
        net.free_port(),
        base,
        epmd.port,
        home=base,
        tls=tls.write(base / "tls"),
        tls_port=net.free_port(),
    )
    node.start().wait_ready(60)
    yield Broker(node)
    node.stop()


@pytest.fixture(scope="session")
def pigeon_url(broker: Broker) -> str:
    """A broker user of Pigeon's own with a strong password, watched by the secret scan."""
    password = evidence.secret("pw-" + secrets.token_urlsafe(18))
    broker.ctl("add_user", "pigeon", password)
    broker.ctl("set_permissions", "-p", "/", "pigeon", ".*", ".*", ".*")
    return evidence.hidden(broker.url_with("pigeon", password))


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestCluster]:
    """Three nodes joined into one cluster (own names, ports, data, cookie and epmd), started
    in parallel on first use; Pigeon's user with a password the secret scan watches."""
    made = Cluster.plan(tmp_path_factory.mktemp("cluster"), name=f"pigeon-qq-{net.free_port()}")
    try:
        made.start()
        password = evidence.secret("qq-" + secrets.token_urlsafe(18))
        made.nodes[0].ctl("add_user", "pigeon", password)
        made.nodes[0].ctl("set_permissions", "-p", "/", "pigeon", ".*", ".*", ".*")
        yield TestCluster(made, password)
    finally:
        made.stop()


@pytest.fixture
def healthy_cluster(cluster: TestCluster) -> Iterator[TestCluster]:
    """The cluster, every node running and joined again after the test."""
    yield cluster
    cluster.cluster.heal()


@pytest.fixture
def healthy_broker(broker: Broker) -> Iterator[Broker]:
    """The node, put back to normal after a test that stopped it or raised an alarm."""
    yield broker
    broker.heal()


@pytest.fixture
def secretsmanager(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's Secrets Manager server on loopback, and this process's environment pointed at
    it as a function's is (the function signs its own requests: an in-process mock of
    botocore would never see them)."""
    for name, value in moto_server.function_environment(moto_endpoint).items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL_SECRETS_MANAGER"):
        monkeypatch.delenv(name, raising=False)
    return moto_server.client("secretsmanager", moto_endpoint)


def make_secret(client: Any, value: dict[str, Any]) -> str:
    name = f"pigeon-{uuid.uuid4().hex[:6]}"
    return str(client.create_secret(Name=name, SecretString=json.dumps(value))["ARN"])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with moto_server.moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def task_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dist/pigeon.zip extracted, as Lambda does."""
    return archive.extract(ZIP, tmp_path_factory.mktemp("task"))


@pytest.fixture
def queue(broker: Broker) -> str:
    """A fresh durable queue on the test node."""
    name = f"test.{uuid.uuid4().hex[:8]}"
    broker.declare(name)
    return name


@pytest.fixture
def make_function(task_root: Path) -> Iterator[Callable[..., LocalPigeon]]:
    """Pigeon's built zip in the local runtime, configured for a URL and queues; closed after."""
    made: list[LocalPigeon] = []

    def make(
        url: str, queues: str, timeout: float = 10.0, logging: Any = None, **env: str
    ) -> LocalPigeon:
        function = LocalPigeon(task_root, url, queues, timeout, logging, **env)
        made.append(function)
        return function

    yield make
    for function in made:
        function.close()


@pytest.fixture(scope="module")
def deploy_aws() -> Iterator[tuple[str, object, str]]:
    """moto and the Lambda account-settings stand-in, for deploy.sh's tests (one per module;
    support.deploy_world.prepared() empties the account for each test)."""
    from support.deploy_world import aws_on_loopback

    with aws_on_loopback() as endpoints:
        yield endpoints
