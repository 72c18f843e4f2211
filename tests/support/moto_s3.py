"""moto's S3, filled fast and listed fast, for the backfill test's 20,000 keys.

moto answers each ListObjectsV2 by scanning every key of the bucket (about 5 ms a call at
21,000 keys), so the 4,096 listings of a backfill would take minutes. `indexed_listing()`
answers a prefix listing (no delimiter) from a sorted index of the bucket's keys instead: the
same keys, in the same order, found by bisection. Everything else is moto's own, and
`check_equal` compares both ways on the bucket the test uses."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import S3Backend, s3_backends

MOTO_LIST_OBJECTS = S3Backend.list_objects


def backend() -> Any:
    return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]


def fill(bucket: str, keys: list[str]) -> None:
    """Objects put straight into moto's backend (the HTTP API would take minutes)."""
    store = backend()
    for key in keys:
        store.put_object(bucket, key, b"{}")


@contextmanager
def indexed_listing() -> Iterator[None]:
    original = MOTO_LIST_OBJECTS
    indexes: dict[int, tuple[int, list[str]]] = {}

    def names(bucket: Any) -> list[str]:
        size = len(bucket.keys)
        cached = indexes.get(id(bucket))
        if cached is None or cached[0] != size:
            cached = (size, sorted(bucket.keys.keys()))
            indexes[id(bucket)] = cached
        return cached[1]

    def list_objects(
        self: Any, bucket: Any, prefix: Any, delimiter: Any, marker: Any, max_keys: Any
    ) -> Any:
        if not prefix or delimiter or marker or max_keys is not None:
            return original(self, bucket, prefix, delimiter, marker, max_keys)
        sorted_names = names(bucket)
        low = bisect.bisect_left(sorted_names, prefix)
        high = bisect.bisect_left(sorted_names, prefix + "\U0010ffff")
        return [bucket.keys[name] for name in sorted_names[low:high]], [], False, None

    S3Backend.list_objects = list_objects  # type: ignore[method-assign]
    try:
        yield
    finally:
        S3Backend.list_objects = original  # type: ignore[method-assign]


def check_equal(bucket_name: str, prefixes: list[str]) -> None:
    """The index gives exactly what moto's own scan gives, key for key, in order."""
    store = backend()
    bucket = store.get_bucket(bucket_name)
    for prefix in prefixes:
        indexed = store.list_objects(bucket, prefix, None, None, None)[0]
        scanned = MOTO_LIST_OBJECTS(store, bucket, prefix, None, None, None)[0]
        assert [k.name for k in indexed] == [k.name for k in scanned], prefix
