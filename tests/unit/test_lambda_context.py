import time

import pytest

from pigeon.lambda_context import deadline_for, request_id
from support.in_process import LambdaContext


@pytest.mark.parametrize(
    ("remaining_ms", "timeout", "seconds"),
    [
        (600_000, 10, 10.0),  # the publish timeout
        (30_000, 10, 10.0),
        (11_000, 10, 10.0),
        (10_000, 10, 9.0),  # 1 s before the Lambda timeout
        (3000, 10, 2.0),
        (2000, 10, 1.0),
        (1999, 10, 0.9995),  # under 2 s left: halfway through the time left
        (1000, 10, 0.5),
        (0, 10, 0.0),
    ],
)
def test_the_deadline_ends_as_the_docs_say(remaining_ms, timeout, seconds):
    now = time.monotonic()
    assert deadline_for(LambdaContext(remaining_ms), timeout) - now == pytest.approx(
        seconds, abs=0.05
    )


def test_without_a_context_the_publish_timeout_alone_decides():
    now = time.monotonic()
    assert deadline_for(None, 7) - now == pytest.approx(7, abs=0.05)


def test_the_request_id_comes_from_the_context():
    assert request_id(LambdaContext(aws_request_id="r-1")) == "r-1"
    assert request_id(object()) is None
