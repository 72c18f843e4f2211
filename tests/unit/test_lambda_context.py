import time

import pytest

from pigeon.lambda_context import deadline_for, request_id
from support.in_process import LambdaContext


def test_the_deadline_ends_well_before_the_lambda_timeout():
    now = time.monotonic()
    assert deadline_for(LambdaContext(3000), 10) - now == pytest.approx(2.0, abs=0.1)
    assert deadline_for(LambdaContext(600_000), 10) - now == pytest.approx(10, abs=0.1)
    assert deadline_for(LambdaContext(1000), 10) - now == pytest.approx(0.5, abs=0.1)
    assert deadline_for(None, 7) - now == pytest.approx(7, abs=0.1)


def test_the_request_id_comes_from_the_context():
    assert request_id(LambdaContext(aws_request_id="r-1")) == "r-1"
    assert request_id(object()) is None
