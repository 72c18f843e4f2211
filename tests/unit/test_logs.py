import io
import json
import logging

from pigeon import logs


def test_json_lines_with_the_invocation_fields_and_extras():
    stream = io.StringIO()
    logger = logs.setup("INFO", stream=stream)
    logs.start_invocation("req-1")
    logger.info("accepted", extra={"crash_id": "abc", "queue": "q"})
    logger.debug("hidden at INFO")
    logs.end_invocation()
    logger.warning("between invocations")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "accepted"
    assert first["level"] == "INFO"
    assert first["logger"] == "pigeon"
    assert first["aws_request_id"] == "req-1"
    assert (first["crash_id"], first["queue"]) == ("abc", "q")
    assert first["timestamp"].endswith("+00:00")
    assert second["aws_request_id"] is None


def test_lines_do_not_also_go_to_the_runtime_root_logger():
    root_stream = io.StringIO()
    root_handler = logging.StreamHandler(root_stream)
    logging.getLogger().addHandler(root_handler)
    try:
        logs.setup("INFO", stream=io.StringIO())
        logs.get_logger("pigeon.handler").info("once")
    finally:
        logging.getLogger().removeHandler(root_handler)
    assert root_stream.getvalue() == ""


def test_setup_twice_keeps_one_handler():
    logs.setup("INFO", stream=io.StringIO())
    logs.setup("INFO", stream=io.StringIO())
    assert len(logging.getLogger("pigeon").handlers) == 1
