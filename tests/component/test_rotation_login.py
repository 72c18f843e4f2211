"""The rotation's login test (rotate_secret.py `test` and `finish`) against a node that ends the
handshake: only a 403 is a refused login; a node restarting (320) or a lost stream is no
connection, so the operator is not sent to the password."""

from __future__ import annotations

import pytest

from pigeon_tools.operate.rotation import login_works
from support.amqp_peer import ACCESS_REFUSED, CONNECTION_FORCED, AmqpPeer


@pytest.mark.parametrize(
    ("mode", "reply", "said"),
    [
        ("close", ACCESS_REFUSED, "the login was refused"),
        ("close", CONNECTION_FORCED, "no connection (ProbableAuthenticationError)"),
        ("drop", CONNECTION_FORCED, "no connection (ProbableAuthenticationError)"),
    ],
    ids=["403", "320", "dropped"],
)
def test_only_a_403_is_a_refused_login(mode, reply, said):
    node = AmqpPeer(mode, reply)
    try:
        assert login_works(node.url(), timeout=5) == said
    finally:
        node.close()


def test_a_real_node_refuses_a_wrong_password(broker):
    assert login_works(broker.url_with("guest", "not-the-password"), timeout=5) == (
        "the login was refused"
    )
