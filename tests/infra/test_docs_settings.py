"""Every setting the operator-facing docs name exists: a `PIGEON_*` variable of
function/pigeon/settings.py, a `PIGEONTOOLS_*` variable the tools read, or a Terraform variable
(of a module, of the root, or an attribute of the root's `function`/`sqs` objects), output or
alarm input. A doc that says `maximum_event_age_seconds` where the variable is
`maximum_event_age_in_seconds` sends an operator to a setting that is not there.

Checked: docs/operations.md, docs/performance.md, README's Sizing section, docs/deploy.md.
Names in backticks that look like settings (snake_case, or `NAME = value`) must be one of
those, or one of the few other names below, each with what it is."""

from __future__ import annotations

import functools
import re

import pytest

from pigeon import credentials, settings
from pigeon_tools.paths import ROOT
from pigeon_tools.terraform import hcl

# Names in those docs that are not settings: what each one is.
NOT_SETTINGS = {
    # log line fields (docs/operations.md, Logs)
    "aws_request_id": "log field",
    "function_version": "log field",
    "crash_id": "log field",
    "crash_ids": "log field",
    "message_id": "log field",
    "duration_ms": "log field",
    "item_failures": "log field: the invocation summary's count of SQS item failures",
    # the broker secret's JSON fields (credentials.HOST_FIELDS)
    "virtual_host": "secret field",
    # metrics of function/pigeon/metrics.py
    "publish_error": "metric",
    "item_failure": "metric",
    # the doc's example of a misspelt setting, which init warns about
    "PIGEON_QUEUE": "a typo, on purpose",
    # broker users in the rotation example
    "pigeon_a": "example broker user",
    "pigeon_b": "example broker user",
    # results.json keys of the bench (docs/performance.md)
    "slowest_imports": "bench results.json key",
    "slowest_imports_secret": "bench results.json key",
    # Terraform arguments and resources of the modules, not variables
    "logging_config": "aws_lambda_function block",
    "source_code_hash": "aws_lambda_function argument",
    "source_arn": "aws_lambda_permission argument",
    "source_account": "aws_lambda_permission argument",
    "enabled": "aws_lambda_event_source_mapping argument",
    "validate": "datadog provider argument",
    "aws_s3_bucket_notification": "Terraform resource type",
    "use_lockfile": "S3 backend argument",
    "required_version": "Terraform setting",
    "allowed_account_ids": "aws provider argument",
    "aws_cloudwatch_log_subscription_filter": "Terraform resource type",
    "enable_key_rotation": "aws_kms_key argument",
    "publish": "aws_lambda_function argument (SnapStart's published versions)",
    "create_before_destroy": "Terraform lifecycle argument",
    "workspace_key_prefix": "S3 backend argument",
    "broker_connections_unreserved": "the pigeon module's check block",
    "connection_max": "RabbitMQ configuration key",
    "clients": "words of the broker-connections refusal message (`M of other clients = T`)",
    # results.json keys of the bench's SnapStart figure
    "snapshot_init_ms": "bench results.json key",
}
PAGES = {
    "docs/operations.md": None,
    "docs/performance.md": None,
    "docs/deploy.md": None,
    "README.md": "## Sizing",
}
TICKED = re.compile(r"`([^`\n]+)`")
SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
ASSIGNED = re.compile(r"([a-z][a-z0-9_]*) = ")
UPPER = re.compile(r"PIGEON(?:TOOLS)?_[A-Z0-9_]+")


@functools.cache
def known() -> frozenset[str]:
    names = {s.name for s in settings.SETTINGS}
    for path in (ROOT / "scripts").rglob("*"):
        if path.is_file() and path.suffix in {".py", ".sh", ""}:
            names |= set(re.findall(r"PIGEONTOOLS_[A-Z0-9_]+", path.read_text(errors="ignore")))
    for module in hcl.all_modules():
        names.add(module.path.name)  # a module: bucket_notification, sqs_delivery
        names |= set(module.variables()) | set(module.outputs())
        for spec in module.variables().values():
            if str(spec.get("type", "")).startswith("${object("):
                names |= set(hcl.object_attributes(spec["type"]))
    return frozenset(names)


def section(page: str, heading: str | None) -> str:
    text = (ROOT / page).read_text()
    if heading is None:
        return text
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end > 0 else len(text)]


def named(text: str) -> set[str]:
    """The setting-like names a text puts in backticks (code blocks are commands, not prose)."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    found = set()
    for ticked in TICKED.findall(text):
        ticked = ticked.strip()
        if SNAKE.fullmatch(ticked) or UPPER.fullmatch(ticked):
            found.add(ticked)
        found |= set(ASSIGNED.findall(ticked))
    return found


@pytest.mark.parametrize(("page", "heading"), PAGES.items(), ids=list(PAGES))
def test_every_setting_a_doc_names_exists(page, heading):
    unknown = named(section(page, heading)) - known() - set(NOT_SETTINGS)
    assert not unknown, f"{page} names settings that do not exist: {sorted(unknown)}"


def test_a_misnamed_setting_is_found():
    text = "kept up to `maximum_event_age_seconds`; set `reserved_concurrency = 5`, `PIGEON_QUEUE`"
    assert named(text) - known() == {
        "maximum_event_age_seconds",
        "reserved_concurrency",
        "PIGEON_QUEUE",
    }


def test_the_allowed_names_are_not_settings_after_all():
    assert not set(NOT_SETTINGS) & known(), "a setting now: drop it from NOT_SETTINGS"


@pytest.mark.parametrize(
    "page", ["terraform/modules/secrets/README.md", "docs/operations.md"], ids=str
)
def test_the_docs_give_every_form_and_field_of_the_broker_secret(page):
    """Each form the function accepts (credentials.FORMS), with an example, and every field."""
    text = (ROOT / page).read_text()
    for form in credentials.FORMS:
        assert f'{{"{form}": ' in text, f"{page}: no example of the {form} form"
    for field in credentials.HOST_FIELDS:
        assert f'"{field}"' in text, f"{page}: the field {field} is not named"
