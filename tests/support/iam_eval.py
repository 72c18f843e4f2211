"""IAM's decision for one request against one identity-based policy, as AWS documents it
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
an explicit Deny wins, else an Allow whose Action, Resource and Condition all match allows,
else the request is implicitly denied.

    decide(document, action, resource, context)  "Allow", "Deny" (explicit) or "NoAllow"

Action names match case-insensitively, resources case-sensitively; `*` matches any run of
characters (colons and slashes too) and `?` one character. Conditions: the String*, Arn* and
Bool operators, with ForAnyValue:/ForAllValues:, each key of a condition matched against the
request's context (a key the request lacks fails the condition, except under ForAllValues:);
an operator this does not know fails loudly rather than match. moto's own evaluator
(moto.iam.access_control.IAMPolicy) agrees with it on Action and Resource
(tests/infra/test_iam_eval.py), but it ignores the condition operators other than
StringEquals and lets a condition on a missing key pass, which the Pigeon roles depend on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

Context = Mapping[str, str | Sequence[str]]


def _pattern(glob: str, *, case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{body}$", 0 if case else re.IGNORECASE)


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _matches(globs: Any, value: str, *, case: bool) -> bool:
    return any(_pattern(g, case=case).match(value) for g in _listed(globs))


def _one(operator: str, expected: str, actual: str) -> bool:
    if operator in ("StringEquals", "ArnEquals"):
        return actual == expected
    if operator == "StringNotEquals":
        return actual != expected
    if operator == "StringEqualsIgnoreCase":
        return actual.lower() == expected.lower()
    if operator in ("StringLike", "ArnLike"):
        return _pattern(expected, case=True).match(actual) is not None
    if operator in ("StringNotLike", "ArnNotLike"):
        return _pattern(expected, case=True).match(actual) is None
    if operator == "Bool":
        return actual.lower() == expected.lower()
    raise ValueError(f"condition operator {operator} is not one this evaluator knows")


def _condition(operator: str, key: str, expected: Any, context: Context) -> bool:
    qualifier, _, operator = operator.rpartition(":")
    if operator.endswith("IfExists"):
        raise ValueError(f"{operator}: not one this evaluator knows")
    values = {k.lower(): v for k, v in context.items()}.get(key.lower())
    wanted = _listed(expected)
    if values is None:
        return qualifier == "ForAllValues"
    actual = _listed(values)
    hit = [any(_one(operator, e, a) for e in wanted) for a in actual]
    if qualifier == "ForAllValues":
        return all(hit)
    if qualifier == "ForAnyValue":
        return any(hit)
    if qualifier:
        raise ValueError(f"set operator {qualifier}: not one this evaluator knows")
    return len(actual) == 1 and hit[0]


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: Context) -> bool:
    if "Action" in statement:
        if not _matches(statement["Action"], action, case=False):
            return False
    elif _matches(statement["NotAction"], action, case=False):
        return False
    if "Resource" in statement:
        if not _matches(statement["Resource"], resource, case=True):
            return False
    elif _matches(statement["NotResource"], resource, case=True):
        return False
    return all(
        _condition(operator, key, expected, context)
        for operator, keys in statement.get("Condition", {}).items()
        for key, expected in keys.items()
    )


def decide(
    document: Mapping[str, Any], action: str, resource: str, context: Context | None = None
) -> str:
    statements = document["Statement"]
    statements = [statements] if isinstance(statements, Mapping) else statements
    effects = {s["Effect"] for s in statements if _applies(s, action, resource, context or {})}
    if "Deny" in effects:
        return "Deny"
    return "Allow" if "Allow" in effects else "NoAllow"


def allows(
    document: Mapping[str, Any], action: str, resource: str, context: Context | None = None
) -> bool:
    return decide(document, action, resource, context) == "Allow"
