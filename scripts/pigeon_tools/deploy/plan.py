"""`terraform show -json PLAN`, read by resource type, never by a module address: the checks
hold whatever module layout the root has."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ResourceChange:
    address: str
    type: str
    actions: tuple[str, ...]
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    after_unknown: Mapping[str, Any] = field(default_factory=dict)

    @property
    def deletes(self) -> bool:
        """A delete, or a replace (delete then create, or create then delete)."""
        return "delete" in self.actions

    @property
    def replaces(self) -> bool:
        return "delete" in self.actions and "create" in self.actions

    @property
    def changes(self) -> bool:
        return any(a in self.actions for a in ("create", "update", "delete"))

    @property
    def verb(self) -> str:
        return "replaced" if self.replaces else "destroyed" if self.deletes else "changed"


class Plan:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def variables(self) -> dict[str, Any]:
        return {k: v.get("value") for k, v in (self.document.get("variables") or {}).items()}

    def changes(self) -> Iterator[ResourceChange]:
        for change in self.document.get("resource_changes") or []:
            if change.get("mode", "managed") != "managed":
                continue
            body = change.get("change") or {}
            yield ResourceChange(
                address=str(change["address"]),
                type=str(change["type"]),
                actions=tuple(body.get("actions") or ()),
                before=body.get("before"),
                after=body.get("after"),
                after_unknown=body.get("after_unknown") or {},
            )

    def of_type(self, *types: str) -> list[ResourceChange]:
        return [c for c in self.changes() if c.type in types]

    def known_arns(self) -> set[str]:
        """The ARNs of what this state manages, before and after the plan."""
        arns = set()
        for change in self.changes():
            for values in (change.before, change.after):
                if values and isinstance(values.get("arn"), str):
                    arns.add(values["arn"])
        return arns
