import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote_plus

import jsonschema
import pytest

from pigeon.crash_ids import Decision, classify, crash_id_from_key
from pigeon.delivery import unwrap
from pigeon.events import S3Object
from pigeon_tools import events
from pigeon_tools.paths import SCRIPTS

SCRIPT = SCRIPTS / "generate_event.py"
SCHEMA = json.loads((Path(__file__).parents[1] / "data" / "s3_event.schema.json").read_text())


def run(*args: str) -> tuple[dict, str]:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout), done.stderr


def test_output_is_a_valid_s3_notification():
    event, _ = run("--key", "v2/raw_crash/000/20180313/00007bd0-2d1c-4865-af09-80bc00180313")
    jsonschema.validate(event, SCHEMA)
    assert len(event["Records"]) == 1


def test_repeated_options_make_one_multi_record_event_in_order():
    crash_id = "00007bd0-2d1c-4865-af09-80bc00180313"
    event, stderr = run(
        "--key",
        "junk",
        "--crash-id",
        crash_id,
        "--new-crash-id",
        "defer",
        "--bucket",
        "other-bucket",
        "--event-name",
        "ObjectCreated:Copy",
        "--region",
        "eu-central-1",
    )
    jsonschema.validate(event, SCHEMA)
    keys = [r["s3"]["object"]["key"] for r in event["Records"]]
    assert keys[0] == "junk"
    assert keys[1] == f"v2/raw_crash/000/20180313/{crash_id}"
    new_id = stderr.split("defer crash id: ")[1].strip()
    assert keys[2].endswith(new_id)
    for r in event["Records"]:
        assert r["s3"]["bucket"] == {
            "name": "other-bucket",
            "ownerIdentity": r["s3"]["bucket"]["ownerIdentity"],
            "arn": "arn:aws:s3:::other-bucket",
        }
        assert r["eventName"] == "ObjectCreated:Copy"
        assert r["awsRegion"] == "eu-central-1"


@pytest.mark.parametrize("decision", ["accept", "defer"])
def test_new_crash_ids_carry_the_throttle_result(decision):
    crash_id = events.new_crash_id(decision)
    assert classify(crash_id) is Decision(decision)
    assert crash_id_from_key(events.raw_crash_key(crash_id), "v2/raw_crash/") == crash_id


def test_keys_are_encoded_as_s3_encodes_them():
    key = "v1/dump names/ü=1:2+3"
    encoded = events.encode_key(key)
    assert encoded == "v1/dump+names/%C3%BC%3D1%3A2%2B3"
    assert unquote_plus(encoded) == key
    jsonschema.validate(events.event([key]), SCHEMA)


def test_no_key_is_an_error():
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True)
    assert done.returncode == 2
    assert "give at least one" in done.stderr


@pytest.mark.parametrize("via", ["s3", "sqs", "sqs+sns", "sns", "eventbridge"])
def test_every_delivery_path_unwraps_to_the_same_key(via):
    key = "v2/raw_crash/000/20180313/00007bd0-2d1c-4865-af09-80bc00180313"
    event, _ = run("--key", key, "--via", via)
    delivery = unwrap(event, frozenset({"ObjectCreated:Put"}))
    assert delivery.source == via.split("+")[0]
    keys = [r.key for unit in delivery.units for r in unit.results if isinstance(r, S3Object)]
    assert keys == [key]


def test_eventbridge_takes_one_key_and_says_why():
    args = ["--new-crash-id", "accept", "--new-crash-id", "accept", "--via", "eventbridge"]
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)
    assert done.returncode == 2
    assert "EventBridge sends one event per object" in done.stderr
