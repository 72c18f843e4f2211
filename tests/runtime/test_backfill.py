"""scripts/backfill.py over three days of a bucket in moto's S3 with 21,000 raw crashes and keys
that do not belong, through the built zip in the stay-open local runtime, to a real broker:
the dry run counts each day right; an interrupted backfill, once resumed, publishes each
accepted id exactly once."""

from __future__ import annotations

import datetime
import json
import random
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from pigeon_tools import events, moto_server, net
from support import commands, evidence, moto_s3

BUCKET = "crashstats-backfill"
DAYS = [datetime.date(2026, 11, 27), datetime.date(2026, 11, 28), datetime.date(2026, 11, 29)]
PER_DAY = 7000


def crash(rng: random.Random, day: datetime.date) -> str:
    return events.new_crash_id("accept" if rng.random() < 0.8 else "defer", day)


@pytest.fixture(scope="module")
def bucket(moto_endpoint):
    """21,000 crashes over three days (80 % accept), plus what a backfill must not send."""
    s3 = moto_server.client("s3", moto_endpoint)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    rng = random.Random(20261130)
    crashes = {day: [crash(rng, day) for _ in range(PER_DAY)] for day in DAYS}
    keys = [events.raw_crash_key(i) for ids in crashes.values() for i in ids]
    before, after = datetime.date(2026, 11, 26), datetime.date(2026, 11, 30)
    outside = [events.raw_crash_key(events.new_crash_id("accept", d)) for d in (before, after)]
    junk = [
        "v2/raw_crash/abc/20261128/not-a-crash-id",  # in range, invalid: sent, not published
        f"v1/dump/{crashes[DAYS[0]][0]}",  # another prefix
        f"v2/raw_crash_other/000/20261128/{events.new_crash_id()}",  # a look-alike prefix
        "v2/raw_crash/abc/2026112/short-date",
        "v2/raw_crash/abc/20261128x/not-a-day",
    ]
    moto_s3.fill(BUCKET, [*keys, *outside, *junk])
    with moto_s3.indexed_listing():
        moto_s3.check_equal(BUCKET, ["v2/raw_crash/000/", "v2/raw_crash/abc/", "v2/raw_crash/fff/"])
        yield crashes


def run(endpoint: str, *args: str, **options) -> subprocess.Popen:
    env = commands.developer_environment(
        AWS_ENDPOINT_URL_S3=endpoint, AWS_REGION="us-west-2", **moto_server.FAKE_CREDENTIALS
    )
    days = ("--env", "prod", "--bucket", BUCKET, "--from", "2026-11-27", "--to", "2026-11-29")
    return subprocess.Popen(
        commands.argv("backfill.py", *days, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **options,
    )


def finish(process: subprocess.Popen, status: int = 0) -> str:
    out, err = process.communicate(timeout=300)
    evidence.seen("backfill", out, err)
    assert process.returncode == status, out + err
    return out


def test_the_dry_run_counts_accept_defer_and_invalid_per_day(bucket, moto_endpoint):
    out = finish(run(moto_endpoint, "--dry-run"))
    for day, ids in bucket.items():
        counts = Counter("accept" if i[-7] == "0" else "defer" for i in ids)
        invalid = ", 1 invalid" if day == DAYS[1] else ""
        line = (
            f"backfill: {day:%Y%m%d}: {counts['accept']} accept, {counts['defer']} defer{invalid}"
        )
        assert line in out
    assert re.search(r"listed 21001 keys with 4096 list calls", out), out
    assert "20261126" not in out
    assert "20261130" not in out


@pytest.fixture
def invoke_api(broker, pigeon_url):
    settings = {"PIGEON_ENV": "backfill", "PIGEON_LOG_LEVEL": "WARNING"}
    args = ("--concurrency", "1", "--timeout", "60", "--function-name", "pigeon-prod")
    with commands.lambda_endpoint(broker, pigeon_url, "backfill", *args, **settings) as found:
        yield found


def run_until_a_batch_is_taken(process: subprocess.Popen, checkpoint, after: str = "") -> None:
    deadline = time.monotonic() + 120
    while True:
        saved = json.loads(checkpoint.read_text()) if checkpoint.exists() else {}
        if saved.get("last_key", "") > after:
            return
        assert process.poll() is None, "the backfill ended before it was interrupted"
        assert time.monotonic() < deadline, "no batch was taken"
        time.sleep(0.05)


def waiting_for_its_rate(process: subprocess.Popen) -> bool:
    """Is the backfill's main thread in its rate's sleep (between two batches)?"""
    try:
        return "nanosleep" in Path(f"/proc/{process.pid}/wchan").read_text()
    except OSError:
        return False


def stop_twice(process: subprocess.Popen) -> tuple[str, str]:
    """Ctrl-C, and once the backfill said it stops after the current batch, Ctrl-C again (two
    signals at once would be one)."""
    lines: list[str] = []
    stopping = threading.Event()

    def read_stderr() -> None:
        for line in process.stderr:
            lines.append(line)
            if "stopping after the current batch" in line:
                stopping.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    process.send_signal(signal.SIGINT)
    assert stopping.wait(60), "".join(lines)
    process.send_signal(signal.SIGINT)
    out = process.stdout.read()
    process.wait(60)
    reader.join(60)
    err = "".join(lines)
    evidence.seen("backfill", out, err)
    return out, err


def test_an_interrupted_backfill_resumes_and_publishes_each_accepted_id_once(
    bucket, moto_endpoint, broker, invoke_api, tmp_path
):
    endpoint, queue = invoke_api
    checkpoint = tmp_path / "checkpoint.json"
    common = ("--endpoint-url", endpoint, "--checkpoint", str(checkpoint), "--batch", "200")
    started = time.perf_counter()
    first = run(moto_endpoint, *common)
    run_until_a_batch_is_taken(first, checkpoint)
    first.send_signal(signal.SIGINT)  # Ctrl-C: stop after the current batch
    out = finish(first, status=130)
    assert "stopped; run the same command again to resume" in out
    stopped_at = json.loads(checkpoint.read_text())
    assert stopped_at["complete"] is False
    paused = time.perf_counter()
    # Resumed, at one batch every 20 s: after its first batch it waits for its rate, and
    # Ctrl-C twice stops it there at once.
    second = run(moto_endpoint, *common, "--rate", "0.05")
    run_until_a_batch_is_taken(second, checkpoint, after=stopped_at["last_key"])
    assert net.wait_until(lambda: waiting_for_its_rate(second), 60, 0.02)
    out, err = stop_twice(second)
    assert second.returncode == 130, out + err
    assert "Traceback" not in err, err
    assert "backfill: stopped now; every batch the function took is in the checkpoint" in out
    assert re.search(r"^backfill: listed \d+ keys with \d+ list calls", out, re.M), out
    again_at = json.loads(checkpoint.read_text())  # written whole
    assert again_at["complete"] is False
    assert again_at["last_key"] > stopped_at["last_key"]
    resumed = time.perf_counter()
    out = finish(run(moto_endpoint, *common))
    elapsed = time.perf_counter() - resumed + paused - started
    on_queue = broker.bodies(queue)
    accepted = [i for ids in bucket.values() for i in ids if i[-7] == "0"]
    assert set(on_queue) == set(accepted)  # nothing lost
    twice = Counter(on_queue) - Counter(accepted)
    # A graceful stop sends nothing twice; only a batch in flight at the second Ctrl-C may be.
    assert sum(twice.values()) <= 200, twice
    assert all(events.raw_crash_key(i) > stopped_at["last_key"] for i in twice), twice
    assert '"complete": true' in checkpoint.read_text()
    again = finish(run(moto_endpoint, *common))
    assert "already complete" in again
    listing = re.search(r"\((\d+) keys/s\)", out)
    evidence.notes.setdefault("rows", {})["backfill"] = (
        f"{len(accepted):,} accepted of 21,000 crashes over 3 days, stopped (Ctrl-C, then "
        f"Ctrl-C twice) and resumed: 0 lost, {sum(twice.values())} twice; "
        f"{len(accepted) / elapsed:,.0f} ids/s end to end, listing "
        f"{listing.group(1) if listing else '?'} keys/s (moto)"
    )
    evidence.figures["ids_checked"] += len(accepted)


SMALL = "crashstats-backfill-small"


@pytest.fixture(scope="module")
def small_bucket(moto_endpoint):
    """One day of five accepted crashes: enough for one batch."""
    s3 = moto_server.client("s3", moto_endpoint)
    s3.create_bucket(Bucket=SMALL, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    ids = [events.new_crash_id("accept", DAYS[0]) for _ in range(5)]
    for crash_id in ids:
        s3.put_object(Bucket=SMALL, Key=events.raw_crash_key(crash_id), Body=b"{}")
    return ids


def refused(moto_endpoint, endpoint: str, checkpoint: Path) -> str:
    """The one-day backfill of the small bucket fails (exit 1) and marks nothing done."""
    args = ("--bucket", SMALL, "--from", str(DAYS[0]), "--function", "pigeon-prod")
    env = commands.developer_environment(
        AWS_ENDPOINT_URL_S3=moto_endpoint, AWS_REGION="us-west-2", **moto_server.FAKE_CREDENTIALS
    )
    done = commands.run(
        "backfill.py", *args, "--endpoint-url", endpoint, "--checkpoint", str(checkpoint), env=env
    )
    evidence.seen("backfill", done.stdout, done.stderr)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "backfill: error: the function did not take the batch after the start" in done.stderr
    saved = json.loads(checkpoint.read_text()) if checkpoint.exists() else {}
    assert not saved.get("last_key"), saved
    assert not saved.get("complete"), saved
    return done.stderr


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("PIGEON_KEY_PREFIX", "v3/raw_crash/", "its PIGEON_KEY_PREFIX is not --prefix"),
        ("PIGEON_EVENT_NAMES", "ObjectCreated:Copy", "its PIGEON_EVENT_NAMES"),
    ],
)
def test_a_function_that_ignores_the_keys_fails_the_backfill(
    small_bucket, moto_endpoint, broker, pigeon_url, tmp_path, setting, value, said
):
    """Its invokes succeed, but it takes none of the keys (another key prefix, other event
    names): the backfill fails, names the likely setting and publishes nothing."""
    settings = {"PIGEON_ENV": "backfill", setting: value}
    args = ("--concurrency", "1", "--function-name", "pigeon-prod")
    with commands.lambda_endpoint(broker, pigeon_url, "ignored", *args, **settings) as found:
        endpoint, queue = found
        err = refused(moto_endpoint, endpoint, tmp_path / "checkpoint.json")
        assert "it ignored 5 of the 5 records" in err, err
        assert said in err, err
        assert broker.bodies(queue) == []


def test_a_function_that_is_not_pigeon_fails_the_backfill(small_bucket, moto_endpoint, tmp_path):
    """--function names a function that answers every invoke with success and does nothing."""
    root = tmp_path / "task"
    root.mkdir()
    (root / "other.py").write_text("def handler(event, context):\n    return None\n")
    args = (
        "--task-root",
        str(root),
        "--handler",
        "other.handler",
        "--function-name",
        "pigeon-prod",
    )
    with commands.invoke_api(*args, env=commands.developer_environment()) as invocations:
        endpoint = invocations.split("/2015-03-31/")[0]
        err = refused(moto_endpoint, endpoint, tmp_path / "checkpoint.json")
    assert "not Pigeon's invocation summary (nothing)" in err, err


def test_a_range_a_rehearsal_completed_is_not_complete_for_another_function(
    small_bucket, moto_endpoint, tmp_path
):
    """A rehearsal (the local runtime, stage) finished the range; the same range for prod's
    function is not 'already complete': its default checkpoint is another file, and an
    explicit one of the rehearsal is refused as another backfill's."""
    env = commands.developer_environment(
        AWS_ENDPOINT_URL_S3=moto_endpoint, AWS_REGION="us-west-2", **moto_server.FAKE_CREDENTIALS
    )
    checkpoint = tmp_path / "rehearsal.json"
    identity = {"bucket": SMALL, "prefix": "v2/raw_crash/", "from": str(DAYS[0])}
    identity |= {
        "to": str(DAYS[0]),
        "function": "pigeon-stage",
        "endpoint": "",
        "region": "us-west-2",
    }
    checkpoint.write_text(json.dumps({"identity": identity, "last_key": "", "complete": True}))
    args = ("--bucket", SMALL, "--from", str(DAYS[0]), "--checkpoint", str(checkpoint))
    rehearsed = commands.run("backfill.py", *args, "--function", "pigeon-stage", env=env)
    assert "backfill: already complete" in rehearsed.stdout, rehearsed.stdout + rehearsed.stderr
    prod = commands.run("backfill.py", *args, "--function", "pigeon-prod", env=env)
    assert prod.returncode == 2, prod.stdout + prod.stderr
    assert "is the checkpoint of another backfill" in prod.stderr
    assert "already complete" not in prod.stdout
