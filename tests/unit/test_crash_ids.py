import pytest

from pigeon.crash_ids import Decision, classify, crash_id_from_key

PREFIX = "v2/raw_crash/"
ACCEPT = "00007bd0-2d1c-4865-af09-80bc00180313"
DEFER = "11107bd0-2d1c-4865-af09-80bc01180313"


def test_seed_keys():
    assert crash_id_from_key(f"v2/raw_crash/000/20180313/{ACCEPT}", PREFIX) == ACCEPT
    assert crash_id_from_key(f"v2/raw_crash/111/20180313/{DEFER}", PREFIX) == DEFER
    assert crash_id_from_key(f"v1/dump_names/{ACCEPT}", PREFIX) is None
    assert crash_id_from_key(f"v1/dump/{ACCEPT}", PREFIX) is None
    assert crash_id_from_key("junk", PREFIX) is None


@pytest.mark.parametrize(
    "key",
    [
        f"v2/raw_crash/00/20180313/{ACCEPT}",
        f"v2/raw_crash/000/2018031/{ACCEPT}",
        f"v2/raw_crash/000/2018O313/{ACCEPT}",
        f"v2/raw_crash/000/20180313/extra/{ACCEPT}",
        f"v2/raw_crash/000/{ACCEPT}",
        f"v3/raw_crash/000/20180313/{ACCEPT}",
    ],
)
def test_other_key_shapes_are_not_crash_keys(key):
    assert crash_id_from_key(key, PREFIX) is None


def test_custom_prefix():
    assert crash_id_from_key(f"x/000/20180313/{ACCEPT}", "x/") == ACCEPT


def test_the_seventh_character_from_the_end_decides():
    assert classify(ACCEPT) is Decision.ACCEPT
    assert classify(DEFER) is Decision.DEFER
    assert ACCEPT[-7] == "0"
    assert DEFER[-7] == "1"


@pytest.mark.parametrize(
    "crash_id",
    [
        "00007bd0-2d1c-4865-af09-80bc02180313",  # throttle result 2: not accept or defer
        "00007BD0-2D1C-4865-AF09-80BC00180313",  # uppercase
        "00007bd0-2d1c-4865-af09-80bc0018031",  # short
        "00007bd0-2d1c-4865-af09-80bc001803130",  # long
        "00007bd0-2d1c-4865-af09-80bc0018031a",  # date not digits
        "00007bd0_2d1c-4865-af09-80bc00180313",
        "",
        f"{ACCEPT}\n",
    ],
)
def test_anything_else_is_invalid(crash_id):
    assert classify(crash_id) is Decision.INVALID


@pytest.mark.parametrize(
    ("crash_id", "decision"),
    [
        ("00007bd0-2d1c-4865-af09-80bc00180313", Decision.ACCEPT),
        ("de1bb258-cbbf-4589-a673-34f800160918", Decision.ACCEPT),
        ("11107bd0-2d1c-4865-af09-80bc01180313", Decision.DEFER),
        ("de1bb258-cbbf-4589-a673-34f801160918", Decision.DEFER),
        ("00007bd0-2d1c-4865-af09-80bc02180313", Decision.INVALID),  # 2: neither
        ("00007bd0-2d1c-4865-af09-80bc09180313", Decision.INVALID),
        ("a7e3f5c1-9f0b-4b8e-8a2c-3d4e5f000101", Decision.INVALID),  # 'f' in the throttle place
        ("00007BD0-2d1c-4865-af09-80bc00180313", Decision.INVALID),  # upper case
        ("00007bd0-2d1c-4865-af09-80bc0018031", Decision.INVALID),  # one short
        ("00007bd0-2d1c-4865-af09-80bc001803130", Decision.INVALID),  # one long
        ("00007bd0-2d1c-4865-af09-80bc0018031\n", Decision.INVALID),
    ],
)
def test_pinned_crash_ids_get_pinned_decisions(crash_id, decision):
    assert classify(crash_id) is decision
