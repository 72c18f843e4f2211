"""One owner of redaction: a password, once read (from a URL or the secret), is in no log line
and no error, whatever carries it: the message, its arguments, extra fields, an exception's
repr (pika's among them), a traceback."""

from __future__ import annotations

import io
import json

import pika.exceptions
import pytest

from pigeon import logs
from pigeon.confirms import Failure, Message, Unconfirmed
from pigeon.parsers import split_broker_urls
from pigeon.publisher import PublishError
from pigeon.redaction import redact

PASSWORD = "s3cr@t/pw"
QUOTED = "s3cr%40t%2Fpw"
URL = f"amqp://pigeon:{QUOTED}@broker.internal:5672/%2F"


@pytest.fixture
def lines():
    split_broker_urls(URL, "PIGEON_RABBITMQ_URL")  # read, as at init
    stream = io.StringIO()
    logger = logs.setup("DEBUG", stream=stream)
    return logger, stream


def text_of(stream: io.StringIO) -> str:
    return stream.getvalue()


def assert_clean(text: str) -> None:
    for form in (PASSWORD, QUOTED, URL):
        assert form not in text


def test_the_message_its_arguments_and_extra_fields(lines):
    logger, stream = lines
    logger.error("login %s failed for %s", PASSWORD, URL)
    logger.warning("x", extra={"error": f"p={QUOTED}", "list": [URL], "map": {"k": PASSWORD}})
    assert_clean(text_of(stream))
    first, second = (json.loads(line) for line in text_of(stream).splitlines())
    assert first["message"] == "login *** failed for ***"
    assert second["list"] == ["***"]
    assert second["map"] == {"k": "***"}


@pytest.mark.parametrize(
    "error",
    [
        pika.exceptions.AMQPConnectionError(URL),
        pika.exceptions.ConnectionClosedByBroker(403, f"ACCESS_REFUSED for {PASSWORD}"),
        pika.exceptions.ProbableAuthenticationError(f"StreamLostError: {URL}"),
        pika.exceptions.ChannelClosedByBroker(403, f"refused {QUOTED}"),
    ],
    ids=repr,
)
def test_pika_exceptions_in_a_traceback_or_an_extra_field(lines, error):
    logger, stream = lines
    try:
        raise error
    except Exception:
        logger.exception("publish failed")
    logger.error("lost", extra={"error": error, "text": repr(error)})
    pika_logger = logs.get_logger("pika.adapters.base_connection")
    pika_logger.warning("connection_lost: %r", error)  # pika's own lines go through it too
    assert_clean(text_of(stream))
    assert "***" in text_of(stream)


def test_a_publish_error_never_holds_the_password():
    split_broker_urls(URL, "PIGEON_RABBITMQ_URL")
    message = Message("q", "00007bd0-2d1c-4865-af09-80bc00180313")
    reasons = [f"connection lost: {URL}", f"login refused for {PASSWORD}"]
    error = PublishError([Unconfirmed(message, Failure.CONNECTION_LOST, r) for r in reasons])
    assert_clean(str(error) + repr(error))


def test_a_one_letter_password_is_redacted_too():
    split_broker_urls("amqp://u:q@h/", "PIGEON_RABBITMQ_URL")
    assert redact("u:q@h") == "u:***@h"
