"""scripts/rotate_secret.py rotates the broker password with alternating users against a real
RabbitMQ (rabbitmqctl) and Secrets Manager (moto's server), while the built zip in the local
runtime, warm containers started before and cold ones started at each step, keeps publishing:
a full rotation (A to B a step at a time, a stopped step started again; then B back to A in one
run while they publish, so that every password changed) with every invocation confirmed and
0 ids lost. Changing the user's password in place, for contrast, fails a new container: the
harness sees an outage when there is one."""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from collections import Counter
from typing import Any

import pytest

from pigeon.settings import SETTINGS
from pigeon_tools import events, moto_server
from pigeon_tools.broker.node import CTL
from support import commands, evidence

# The function's own timeouts, not the fault tests' short ones: a refused login, the secret read
# again and a second login fit in them, as in production.
TIMEOUTS = {
    s.name: str(s.default)
    for s in SETTINGS
    if s.name in ("PIGEON_CONNECT_TIMEOUT", "PIGEON_PUBLISH_TIMEOUT")
}


@pytest.fixture
def faithful_secrets_manager(monkeypatch):
    """moto 5.2.5 keeps GetSecretValue's default version where it was when
    UpdateSecretVersionStage moves AWSCURRENT; Secrets Manager returns the AWSCURRENT one.
    Make the stand-in answer as AWS does (the function reads the secret without a stage)."""
    from moto.secretsmanager.models import SecretsManagerBackend

    original = SecretsManagerBackend.update_secret_version_stage

    def update(self, secret_id, version_stage, remove_from_version_id, move_to_version_id):
        found = original(self, secret_id, version_stage, remove_from_version_id, move_to_version_id)
        if version_stage == "AWSCURRENT" and move_to_version_id:
            self.secrets[secret_id].default_version_id = move_to_version_id
        return found

    monkeypatch.setattr(SecretsManagerBackend, "update_secret_version_stage", update)


class Account:
    """The broker's users A and B, the secret naming A, and the containers that publish."""

    def __init__(self, broker, moto_endpoint: str, queue: str, make_function) -> None:
        suffix = uuid.uuid4().hex[:6]
        self.broker, self.endpoint, self.queue = broker, moto_endpoint, queue
        self.users = (f"pigeon_a_{suffix}", f"pigeon_b_{suffix}")
        password = evidence.secret("pw-" + secrets.token_urlsafe(18))
        broker.ctl("add_user", self.users[0], password)
        broker.ctl("set_permissions", "-p", "/", self.users[0], ".*", ".*", ".*")
        self.client = moto_server.client("secretsmanager", moto_endpoint)
        value = {
            "host": broker.host,
            "port": broker.port,
            "tls": False,
            "username": self.users[0],
            "password": password,
        }
        self.arn = self.client.create_secret(
            Name=f"pigeon-rotation/{suffix}", SecretString=json.dumps(value)
        )["ARN"]
        self.make_function = make_function
        self.containers: list[Any] = []
        self.published: list[str] = []
        self.failures: list[str] = []
        self.invocations = 0

    def container(self) -> Any:
        """A new execution environment of the built zip, configured with the secret only."""
        aws = moto_server.function_environment(self.endpoint)
        function = self.make_function(
            "", self.queue, timeout=30, PIGEON_RABBITMQ_SECRET_ARN=self.arn, **aws, **TIMEOUTS
        )
        self.containers.append(function)
        return function

    def publish(self, function: Any) -> None:
        ids = [events.new_crash_id("accept") for _ in range(2)]
        outcome = function.sandbox.invoke(json.dumps(events.for_crash_ids(ids)).encode())
        evidence.seen("lambda logs", outcome.logs, outcome.payload)
        self.invocations += 1
        if outcome.ok:
            self.published += ids
        else:
            self.failures.append(outcome.json().get("errorMessage", "")[:200])

    def everyone(self, cold: int = 1) -> None:
        """Every container publishes, and `cold` new ones start and publish."""
        for _ in range(cold):
            self.container()
        for function in self.containers:
            self.publish(function)

    def rotate(self, *args: str) -> str:
        done = self.rotation(*args)
        assert done.returncode == 0, done.stdout + done.stderr
        self.watch_passwords()
        return done.stdout

    def rotation(self, *args: str) -> Any:
        """rotate_secret.py run, whatever its exit status."""
        node = self.broker.node
        env = commands.developer_environment(
            **node.environment(), AWS_ENDPOINT_URL=self.endpoint, AWS_REGION="us-west-2",
            **moto_server.FAKE_CREDENTIALS,
        )  # fmt: skip
        ctl = f"{CTL} -n {node.node_name}"
        done = commands.run(
            "rotate_secret.py", "--secret-id", self.arn, "--users", ",".join(self.users),
            "--ctl", ctl, *args, env=env, timeout=300,
        )  # fmt: skip
        evidence.seen("rotate_secret", done.stdout, done.stderr)
        return done

    def watch_passwords(self) -> None:
        """Every password the rotation made is watched by the secret scan."""
        stages = self.client.describe_secret(SecretId=self.arn)["VersionIdsToStages"]
        for version in stages:
            value = self.client.get_secret_value(SecretId=self.arn, VersionId=version)
            evidence.secret(json.loads(value["SecretString"])["password"])

    def named(self) -> str:
        value = self.client.get_secret_value(SecretId=self.arn)["SecretString"]
        return str(json.loads(value)["username"])

    def stages(self) -> dict[str, list[str]]:
        return dict(self.client.describe_secret(SecretId=self.arn)["VersionIdsToStages"])

    def connected_users(self) -> set[str]:
        listed = self.broker.ctl("list_connections", "user", "--quiet", "--no-table-headers")
        return {line.strip() for line in listed.splitlines() if line.strip()}

    def drop_connections(self) -> None:
        """Every container must log in again at its next publish."""
        self.broker.ctl("close_all_connections", "rotation test")


@pytest.fixture
def account(broker, moto_endpoint, queue, make_function, faithful_secrets_manager):
    return Account(broker, moto_endpoint, queue, make_function)


def test_warm_and_cold_containers_keep_publishing_through_a_full_rotation(account, broker):
    first, second = account.users
    account.everyone(cold=2)  # warm from before the rotation, logged in as A
    # Rotation 1, A -> B, a step at a time; after each, everybody publishes, and one starts.
    for step in ("create", "set", "test", "finish"):
        out = account.rotate("--step", step)
        assert f"rotate_secret: {step}: " in out
        if step == "create":  # stopped here and started again: it carries on with that version
            version = out.split("version ")[1].split()[0]
            again = account.rotate("--step", "create")
            assert f"create: the pending version {version} ({second}) is kept" in again
        account.drop_connections()
        account.everyone()
    assert account.named() == second
    assert second in account.connected_users()  # the cold ones published as B
    # Rotation 2, B -> A: A's password changes while containers still hold it. It runs whole
    # while the containers publish, one after another, until it has finished.
    done = threading.Event()

    def keep_publishing() -> None:
        while not done.is_set():
            account.drop_connections()
            for function in list(account.containers):
                account.publish(function)

    publisher = threading.Thread(target=keep_publishing)
    before = account.invocations
    publisher.start()
    try:
        out = account.rotate()
    finally:
        done.set()
        publisher.join(300)
    assert account.invocations > before
    assert "rotate_secret: finish: AWSCURRENT is " in out
    assert account.named() == first
    account.drop_connections()
    account.everyone(cold=2)  # the ones holding B's login still work; new ones read A's
    assert first in account.connected_users()  # with A's new password
    assert second in account.connected_users()  # the warm ones, with B's cached one
    assert account.failures == []  # no invocation failed: nothing for Lambda to retry
    on_queue = broker.bodies(account.queue)
    assert Counter(on_queue) == Counter(account.published)  # 0 lost, none twice
    evidence.figures["ids_checked"] += len(on_queue)
    evidence.notes.setdefault("rows", {})["password rotation"] = (
        f"two alternating-user rotations (A to B to A), {len(account.containers)} containers "
        f"(warm and cold), {account.invocations} invocations between and during the steps: "
        f"0 failed, 0 lost"
    )
    # For contrast, what the alternating users avoid: the current user's password changed in
    # place on the broker, the secret to follow. A new container reads the old login, is
    # refused, reads it again: still the old one. The harness sees an outage when there is one.
    broker.ctl("change_password", first, evidence.secret(secrets.token_urlsafe(18)))
    account.drop_connections()
    account.everyone()
    assert account.failures, "changing the password in place should have failed an invocation"
    assert all("login refused" in failure for failure in account.failures)


def test_each_step_works_on_the_rotations_own_version(account):
    """AWS's ClientRequestToken: a resumed rotation continues the same version; a step given
    another rotation's token refuses and changes nothing."""
    out = account.rotate("--step", "create")
    version = out.split("version ")[1].split()[0]
    assert f"(to resume: --token {version})" in out
    other = str(uuid.uuid4())
    for step in ("create", "set", "finish"):
        refused = account.rotation("--step", step, "--token", other)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert version in refused.stderr
        assert "Traceback" not in refused.stderr
    assert account.stages()[version] == ["AWSPENDING"]
    assert other not in account.stages()
    account.rotate("--step", "create", "--token", version)  # resumed: the same version
    account.rotate("--token", version)  # and the rest of it
    assert "AWSCURRENT" in account.stages()[version]
    assert account.named() == account.users[1]


def test_finish_tests_the_pending_login_again_before_it_switches(account, broker):
    """The broker changed after the test step (the pending user's password was reset): finish
    refuses, and the secret still names the current user."""
    first, second = account.users
    for step in ("create", "set", "test"):
        account.rotate("--step", step)
    broker.ctl("change_password", second, evidence.secret(secrets.token_urlsafe(18)))
    refused = account.rotation("--step", "finish")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"the login was refused for {second}; nothing switched" in refused.stderr
    assert account.named() == first


def test_a_second_rotation_is_refused_while_one_runs(account):
    import fcntl

    from pigeon_tools.paths import CACHE

    name = "".join(c if c.isalnum() or c in "_.-" else "_" for c in account.arn)
    lock = CACHE / "rotation" / f"{name}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a+") as handle:  # what a running rotation holds
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        refused = account.rotation()
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "another rotation of this secret is running" in refused.stderr
    assert all(stages != ["AWSPENDING"] for stages in account.stages().values())
    account.rotate()  # once it ended
    assert account.named() == account.users[1]


def test_the_other_user_gets_exactly_the_current_users_tags_and_permissions(account, broker):
    """B exists from an older setup with a tag and a vhost A does not have: after the set step
    B has A's tags and A's permissions per vhost, nothing more."""
    first, second = account.users
    vhost = f"old-{uuid.uuid4().hex[:6]}"
    broker.ctl("add_vhost", vhost)
    broker.ctl("add_user", second, evidence.secret(secrets.token_urlsafe(18)))
    broker.ctl("set_user_tags", second, "management")
    broker.ctl("set_permissions", "-p", vhost, second, ".*", ".*", ".*")
    broker.ctl("set_user_tags", first, "monitoring")
    broker.ctl("set_permissions", "-p", "/", first, "^pigeon$", "^amq\\.default$|x", "^$")
    for step in ("create", "set"):
        account.rotate("--step", step)

    def grants(user: str) -> list[dict]:
        listed = broker.ctl("list_user_permissions", "--formatter", "json", "--quiet", user)
        return sorted(json.loads(listed), key=lambda g: g["vhost"])

    def tags(user: str) -> list[str]:
        listed = json.loads(broker.ctl("list_users", "--formatter", "json", "--quiet"))
        return next(sorted(u["tags"]) for u in listed if u["user"] == user)

    assert grants(second) == grants(first)
    assert tags(second) == tags(first) == ["monitoring"]
    broker.ctl("delete_vhost", vhost)


@pytest.fixture(scope="module")
def managed_broker(tmp_path_factory, epmd):
    """A node with RabbitMQ's management plugin on a port of its own: what Amazon MQ offers
    instead of rabbitmqctl."""
    from pigeon_tools import net
    from pigeon_tools.broker import node as nodes
    from support.broker import Broker

    base = tmp_path_factory.mktemp("managed")
    api = net.free_port()
    node = nodes.Node(
        f"pigeon-mgmt-{net.free_port()}", net.free_port(), base, epmd.port, home=base,
        config=f"management.tcp.port = {api}\nmanagement.tcp.ip = 127.0.0.1",
        plugins=("rabbitmq_management",),
    )  # fmt: skip
    node.start().wait_ready(120)
    assert net.wait_until(lambda: net.listening(api), 120, 0.2), "no management listener"
    yield Broker(node), f"http://127.0.0.1:{api}"
    node.stop()


def test_amazon_mq_rotates_through_the_management_api_and_the_new_login_publishes(
    managed_broker, moto_endpoint, faithful_secrets_manager
):
    """No rabbitmqctl on PATH: --management-url does the set step over HTTP, with the current
    user's tags and per-vhost permissions; after the rotation the new login publishes."""
    from pigeon_tools import queues

    broker, api = managed_broker
    first, second = f"mq_a_{uuid.uuid4().hex[:6]}", f"mq_b_{uuid.uuid4().hex[:6]}"
    vhost = f"crashes-{uuid.uuid4().hex[:6]}"
    password = evidence.secret("pw-" + secrets.token_urlsafe(18))
    broker.ctl("add_vhost", vhost)
    broker.ctl("add_user", first, password)
    broker.ctl("set_user_tags", first, "monitoring")
    broker.ctl("set_permissions", "-p", "/", first, ".*", ".*", ".*")
    broker.ctl("set_permissions", "-p", vhost, first, "^$", "^amq\\.default$", "^$")
    client = moto_server.client("secretsmanager", moto_endpoint)
    value = {"host": broker.host, "port": broker.port, "tls": False, "username": first,
             "password": password}  # fmt: skip
    arn = client.create_secret(
        Name=f"pigeon-mq/{uuid.uuid4().hex[:6]}", SecretString=json.dumps(value)
    )["ARN"]
    env = commands.developer_environment(
        AWS_ENDPOINT_URL=moto_endpoint, AWS_REGION="us-west-2", **moto_server.FAKE_CREDENTIALS,
        PIGEONTOOLS_RABBITMQ_ADMIN_USER="guest", PIGEONTOOLS_RABBITMQ_ADMIN_PASSWORD="guest",
    )  # fmt: skip
    env["PATH"] = "/usr/bin:/bin"  # the CLI tools' rabbitmqctl is not what this uses
    done = commands.run(
        "rotate_secret.py", "--secret-id", arn, "--users", f"{first},{second}",
        "--management-url", api, "--ctl", "/nonexistent/rabbitmqctl", env=env, timeout=300,
    )  # fmt: skip
    evidence.seen("rotate_secret", done.stdout, done.stderr)
    assert done.returncode == 0, done.stdout + done.stderr
    new = json.loads(client.get_secret_value(SecretId=arn)["SecretString"])
    evidence.secret(new["password"])
    assert new["username"] == second
    listed = {u["user"]: sorted(u["tags"]) for u in json.loads(
        broker.ctl("list_users", "--formatter", "json", "--quiet"))}  # fmt: skip
    assert listed[second] == listed[first] == ["monitoring"]

    def grants(user: str) -> list[dict]:
        found = broker.ctl("list_user_permissions", "--formatter", "json", "--quiet", user)
        return sorted(json.loads(found), key=lambda g: g["vhost"])

    assert grants(second) == grants(first)
    url = broker.url_with(new["username"], new["password"])
    queue = f"rotated.{uuid.uuid4().hex[:6]}"
    queues.declare(url, queue)  # as the new user: its permissions on / are A's
    crash_id = events.new_crash_id("accept")
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish("", queue, crash_id.encode())
    finally:
        connection.close()
    assert queues.bodies(url, queue) == [crash_id]
