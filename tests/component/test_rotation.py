"""A rotated broker password is picked up without a restart: Secrets Manager (moto) and a real
RabbitMQ node."""

from __future__ import annotations

import json
import uuid

from pigeon import config as configuration
from pigeon.credentials import SecretsManagerSource
from pigeon.handler import Pigeon
from pigeon.metrics import NullSink
from pigeon.publisher import Publisher
from pigeon_tools import net
from pigeon_tools.events import event
from support.broker import CLOSED_WITHIN
from support.fixtures import make_secret
from support.in_process import ACCEPT_ID, SEED_KEYS, LambdaContext
from support.records import recording


def test_a_rotated_password_is_picked_up_without_a_restart(broker, secretsmanager):
    user, old, new = f"pigeon-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex, uuid.uuid4().hex
    broker.ctl("add_user", user, old)
    broker.ctl("set_permissions", "-p", "/", user, ".*", ".*", ".*")
    queue = f"test.{uuid.uuid4().hex[:8]}"
    broker.declare(queue)
    arn = make_secret(
        secretsmanager,
        {"host": broker.host, "port": broker.port, "tls": False, "username": user, "password": old},
    )
    config = configuration.load(
        {"PIGEON_ENV": "test", "PIGEON_QUEUES": queue, "PIGEON_RABBITMQ_SECRET_ARN": arn}
    )
    pigeon = Pigeon(config, Publisher(SecretsManagerSource(arn)), NullSink())
    pigeon(event([SEED_KEYS[0]]), LambdaContext())

    # Rotation: the broker and the secret change; the open connection is dropped.
    broker.ctl("change_password", user, new)
    secretsmanager.put_secret_value(
        SecretId=arn,
        SecretString=json.dumps(
            {
                "host": broker.host,
                "port": broker.port,
                "tls": False,
                "username": user,
                "password": new,
            }
        ),
    )
    connected = {c for c in broker.ctl("list_connections", "-q", "user").split() if c == user}
    assert connected == {user}
    broker.ctl("close_all_connections", "rotation")
    assert net.wait_until(
        lambda: user not in broker.ctl("list_connections", "-q", "user"), CLOSED_WITHIN
    )
    with recording("pigeon.publisher") as seen:
        pigeon(event([SEED_KEYS[0]]), LambdaContext())
    assert broker.bodies(queue) == [ACCEPT_ID, ACCEPT_ID]
    # The reconnect ran, was refused with the old password, and the secret read again won.
    assert any("reconnecting once" in m for m in seen.messages())


def test_a_password_that_starts_with_a_dash_is_set_and_logs_in(broker):
    """secrets.token_urlsafe starts one password in 32 with '-': on rabbitmqctl's command line
    it was an option (usage error, exit 64), so a burst bench or a test failed at random."""
    user, password = f"dash-{uuid.uuid4().hex[:6]}", f"-{uuid.uuid4().hex}"
    broker.ctl("add_user", user, password)
    broker.ctl("authenticate_user", user, password)
    other = f"-{uuid.uuid4().hex}"
    broker.ctl("change_password", user, other)
    broker.ctl("authenticate_user", user, other)
    broker.ctl("delete_user", user)
