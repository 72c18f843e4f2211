"""A bucket's notification entries: as S3 has them now (GetBucketNotificationConfiguration) and
as the plan's `aws_s3_bucket_notification` would write them.

That resource replaces the bucket's WHOLE configuration. An entry S3 has now survives the apply
only if the planned configuration has it again: same target, events and filter. Pigeon's own
entry may move to Pigeon's other target (direct delivery to the queue, and back), which loses
nothing. Everything else that would go is a loss, listed one by one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

KINDS = {
    # kind: (S3 API list, its ARN key, Terraform block, its ARN attribute)
    "lambda": (
        "LambdaFunctionConfigurations",
        "LambdaFunctionArn",
        "lambda_function",
        "lambda_function_arn",
    ),
    "queue": ("QueueConfigurations", "QueueArn", "queue", "queue_arn"),
    "topic": ("TopicConfigurations", "TopicArn", "topic", "topic_arn"),
}


@dataclass(frozen=True)
class Entry:
    kind: str
    target: str | None  # None: not known until apply (a resource this plan creates)
    events: frozenset[str]
    prefix: str
    suffix: str
    id: str | None = None

    def same_trigger(self, other: Entry) -> bool:
        return (self.events, self.prefix, self.suffix) == (other.events, other.prefix, other.suffix)

    def describe(self) -> str:
        where = f" under {self.prefix!r}" if self.prefix else ""
        where += f" ending {self.suffix!r}" if self.suffix else ""
        name = f" (id {self.id})" if self.id else ""
        events = ", ".join(sorted(self.events))
        return f"{self.kind} {self.target or '(created by this plan)'}{name}: {events}{where}"


@dataclass(frozen=True)
class Configuration:
    entries: tuple[Entry, ...]
    eventbridge: bool


def _filter_rules(entry: Mapping[str, Any]) -> dict[str, str]:
    rules = ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    return {str(r.get("Name", "")).lower(): str(r.get("Value", "")) for r in rules}


def current(config: Mapping[str, Any]) -> Configuration:
    """From GetBucketNotificationConfiguration's answer."""
    entries = []
    for kind, (api_list, arn_key, _, _) in KINDS.items():
        for item in config.get(api_list) or []:
            rules = _filter_rules(item)
            entries.append(
                Entry(
                    kind=kind,
                    target=item.get(arn_key),
                    events=frozenset(item.get("Events") or ()),
                    prefix=rules.get("prefix", ""),
                    suffix=rules.get("suffix", ""),
                    id=item.get("Id"),
                )
            )
    return Configuration(tuple(entries), "EventBridgeConfiguration" in config)


def planned(after: Mapping[str, Any] | None, unknown: Mapping[str, Any]) -> Configuration:
    """From the plan's `after` of an aws_s3_bucket_notification (None: destroyed)."""
    if after is None:
        return Configuration((), False)
    entries = []
    for kind, (_, _, block, arn_attribute) in KINDS.items():
        unknown_items = unknown.get(block) or []
        for index, item in enumerate(after.get(block) or []):
            item_unknown = unknown_items[index] if index < len(unknown_items) else {}
            target = item.get(arn_attribute)
            if isinstance(item_unknown, Mapping) and item_unknown.get(arn_attribute):
                target = None
            entries.append(
                Entry(
                    kind=kind,
                    target=target,
                    events=frozenset(item.get("events") or ()),
                    prefix=item.get("filter_prefix") or "",
                    suffix=item.get("filter_suffix") or "",
                    id=item.get("id"),
                )
            )
    return Configuration(tuple(entries), bool(after.get("eventbridge")))


def lost(now: Configuration, then: Configuration, owned: Iterable[str]) -> list[Entry]:
    """The entries S3 has now that the planned configuration would not deliver any more."""
    owned = set(owned)
    gone = []
    for entry in now.entries:
        if any(
            p.kind == entry.kind and p.target == entry.target and p.same_trigger(entry)
            for p in then.entries
        ):
            continue
        moved = entry.target in owned and any(
            p.same_trigger(entry) and (p.target is None or p.target in owned) for p in then.entries
        )
        if not moved:
            gone.append(entry)
    return gone


def allow_key(bucket: str, entry: Entry | None) -> str:
    """What the operator names to accept one loss: s3://BUCKET#ID, or s3://BUCKET#EventBridge."""
    return f"s3://{bucket}#{entry.id or entry.target if entry else 'EventBridge'}"


def describe_all(entries: Sequence[Entry]) -> str:
    return "; ".join(e.describe() for e in entries)
