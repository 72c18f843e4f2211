import io
import socket

import pytest

from pigeon import metrics


def test_the_catalog_names_every_counter_under_one_namespace():
    assert set(metrics.CATALOG) == {
        "accept",
        "defer",
        "throttled",
        "ignored",
        "invalid",
        "published",
        "publish_error",
        "item_failure",
    }
    assert metrics.metric_name("accept") == "socorro.pigeon.accept"


def test_counts_are_sent_once_per_name_and_tags_in_forwarder_format():
    stream = io.StringIO()
    counts = metrics.Metrics(metrics.LogSink(stream), "prod")
    counts.incr("accept")
    counts.incr("accept")
    counts.incr("published", tags=["queue:a"])
    counts.flush()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    fields = [line.split("|") for line in lines]
    assert fields[0][0] == "MONITORING"
    assert fields[0][1].isdigit()
    assert fields[0][2:] == ["2", "count", "socorro.pigeon.accept", "#env:prod"]
    assert fields[1][2:] == ["1", "count", "socorro.pigeon.published", "#env:prod,queue:a"]


def test_an_unknown_metric_is_a_bug():
    with pytest.raises(KeyError):
        metrics.Metrics(metrics.NullSink(), "x").incr("acept")


def test_dogstatsd_sends_udp_datagrams():
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(5)
    sink = metrics.make_sink("dogstatsd", "127.0.0.1", server.getsockname()[1])
    counts = metrics.Metrics(sink, "stage")
    counts.incr("throttled", 3, tags=["queue:socorro.submitter"])
    counts.flush()
    datagram = server.recv(4096).decode().strip()
    assert datagram == "socorro.pigeon.throttled:3|c|#env:stage,queue:socorro.submitter"


def test_dogstatsd_loads_only_the_client_and_leaves_datadog_importable():
    import subprocess

    from pigeon_tools.paths import BUILD
    from pigeon_tools.python import python313

    code = (
        "import sys; from pigeon import metrics\n"
        "metrics.make_sink('dogstatsd', '127.0.0.1', 8125)\n"
        "assert 'datadog.api' not in sys.modules, 'the whole datadog package was imported'\n"
        "import datadog; assert datadog.api and datadog.statsd\n"
    )
    # A fresh interpreter whose sys.path is the build ('' is the working folder) and the stdlib.
    done = subprocess.run(
        [python313(), "-S", "-B", "-c", code],
        cwd=BUILD,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_the_summary_carries_the_counts_of_metrics_with_a_summary_field():
    counts = metrics.Metrics(metrics.NullSink(), "prod")
    assert counts.summary_fields() == {"item_failures": 0}
    counts.incr("item_failure", 3)
    counts.incr("accept")
    assert counts.summary_fields() == {"item_failures": 3}
