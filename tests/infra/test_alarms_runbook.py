"""Every alarm the runbook (docs/operations.md) names exists in terraform/ in the delivery mode
it is named for, and every alarm terraform/ creates has a row and a runbook section.

Names are computed from the modules' own alarm_name templates, for_each keys and counts, in an
environment ENV (the function pigeon-ENV): a renamed alarm, one gated to another mode, or a new
one without a row fails here."""

from __future__ import annotations

import re

import pytest

from pigeon.metrics import CATALOG, ITEM_FAILURE
from pigeon_tools.paths import ROOT
from pigeon_tools.terraform import hcl

RUNBOOK = ROOT / "docs" / "operations.md"
MODULES = hcl.TERRAFORM / "modules"
PIGEON = hcl.load(MODULES / "pigeon")
MODES = ("direct", "sqs")
# `pigeon-ENV-…` (CloudWatch) or `Pigeon ENV: …` (Datadog), in backticks.
NAME = re.compile(r"`(pigeon-ENV-[a-z0-9-]+|Pigeon ENV: [^`]+)`")


def in_mode(count: object, mode: str) -> bool:
    """Whether a resource (or module call) with this count exists with delivery = mode."""
    if count is None:
        return True
    text = str(count)
    sqs_only = {'${var.delivery == "sqs" ? 1 : 0}', "${local.sqs ? 1 : 0}"}
    if text in sqs_only:
        return mode == "sqs"
    if text == "${var.traffic_enabled ? 1 : 0}":  # exists once the gate is open
        return True
    raise AssertionError(f"a count this test does not know: {text}")


def names(module: hcl.Module, prefix: str, mode: str) -> set[str]:
    """The alarm names of one module in one mode, with its local.prefix being prefix."""
    found = set()
    for kind, field in (("aws_cloudwatch_metric_alarm", "alarm_name"), ("datadog_monitor", "name")):
        for body in module.resources(kind).values():
            if not in_mode(body.get("count"), mode):
                continue
            template = body[field].replace("${local.prefix}", prefix)
            template = template.replace("${var.env}", "ENV")
            keys = [""]
            if "for_each" in body:
                local = re.fullmatch(r"\$\{local\.(\w+)\}", body["for_each"])
                assert local, body["for_each"]
                keys = list(module.locals()[local[1]])
            for key in keys:
                name = template.replace("${each.key}", key)
                assert "${" not in name, name
                found.add(name)
    return found


def terraform_alarms(mode: str) -> set[str]:
    calls = PIGEON.module_calls()
    assert PIGEON.locals()["name"] == "pigeon-${var.env}"
    assert calls["alarms"]["function_name"] == "${module.function.function_name}"
    assert calls["sqs_delivery"]["name"] == "${local.name}"
    alarms = hcl.load(MODULES / "alarms")
    assert alarms.locals()["prefix"] == "${coalesce(var.name_prefix, var.function_name)}"
    delivery = hcl.load(MODULES / "sqs_delivery")
    assert delivery.locals()["prefix"] == "${var.name}-delivery"
    found = names(alarms, "pigeon-ENV", mode) | names(hcl.load(MODULES / "datadog"), "", mode)
    if in_mode(calls["sqs_delivery"].get("count"), mode):
        found |= names(delivery, "pigeon-ENV-delivery", mode)
    return found


def table_rows() -> dict[str, tuple[set[str], str]]:
    """The alarm table: name => (the modes it exists in, the runbook anchor it links)."""
    text = RUNBOOK.read_text()
    section = text[text.index("## Alarms and monitors") : text.index("## Runbook")]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not NAME.fullmatch(cells[0]):
            continue
        modes = {m.strip() for m in cells[1].split(",")}
        link = re.fullmatch(r"\[[^\]]+\]\(#([a-z0-9-]+)\)", cells[3])
        assert link, f"{cells[0]}: the runbook column must link a section: {cells[3]}"
        rows[cells[0].strip("`")] = (modes, link[1])
    return rows


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading (as tests/infra/test_docs.py)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_table_lists_every_alarm_terraform_creates_in_the_modes_it_exists_in():
    rows = table_rows()
    for mode in MODES:
        listed = {name for name, (modes, _) in rows.items() if mode in modes}
        assert listed == terraform_alarms(mode), mode


def test_every_alarm_links_a_runbook_section_that_names_it():
    runbook = RUNBOOK.read_text().split("## Runbook", 1)[1]
    sections = {
        anchor(m["heading"]): m["body"]
        for m in re.finditer(r"^### (?P<heading>.+)\n(?P<body>(?:(?!^### ).*\n?)*)", runbook, re.M)
    }
    for name, (_, linked) in table_rows().items():
        assert linked in sections, f"{name}: no runbook section #{linked}"
        assert f"`{name}`" in sections[linked], f"the section #{linked} does not name {name}"


def test_every_alarm_the_runbook_names_anywhere_exists():
    named = set(NAME.findall(RUNBOOK.read_text()))
    every = terraform_alarms("direct") | terraform_alarms("sqs")
    assert named <= every, named - every


@pytest.mark.parametrize("mode", MODES)
def test_what_fires_in_a_mode_exists_in_that_mode(mode):
    """Rows that begin with a delivery mode (`direct` | …) name only alarms of that mode."""
    exists = terraform_alarms(mode)
    rows = [
        line
        for line in RUNBOOK.read_text().splitlines()
        if re.match(rf"\| `{mode}`", line) and NAME.search(line)
    ]
    assert rows, f"the runbook says nowhere what fires with {mode} delivery"
    for line in rows:
        assert set(NAME.findall(line)) <= exists, line


def test_the_item_failures_alarm_reads_the_metric_the_function_logs():
    """The metric filter reads the invocation summary's field for the item_failure metric, the
    one the handler writes (tests/component check the line itself)."""
    field = CATALOG[ITEM_FAILURE].summary_field
    assert field
    alarms = hcl.load(MODULES / "alarms")
    [metric_filter] = alarms.resources("aws_cloudwatch_log_metric_filter").values()
    assert metric_filter["pattern"] == f"{{ $.{field} > 0 }}"
    assert metric_filter["metric_transformation"][0]["value"] == f"$.{field}"
    assert PIGEON.module_calls()["alarms"]["log_group_name"] == "${module.function.log_group_name}"
    assert PIGEON.module_calls()["alarms"]["delivery"] == "${var.delivery}"


def test_silence_breaches_on_missing_data_and_everything_else_does_not():
    alarms = hcl.load(MODULES / "alarms").resources("aws_cloudwatch_metric_alarm")
    for name, alarm in alarms.items():
        expected = "breaching" if name == "silence" else "notBreaching"
        assert alarm["treat_missing_data"] == expected, name
    silence = alarms["silence"]
    assert (silence["metric_name"], silence["comparison_operator"]) == (
        "Invocations",
        "LessThanThreshold",
    )
    # Made when the gate opens, so it starts in INSUFFICIENT_DATA and its move to ALARM pages:
    # an alarm in ALARM with its actions off while the gate is closed would never notify.
    assert silence["count"] == "${var.traffic_enabled ? 1 : 0}"
    assert "actions_enabled" not in silence
    monitor = hcl.load(MODULES / "datadog").resources("datadog_monitor")["no_invocations"]
    assert "aws.lambda.invocations" in monitor["query"]
    # No invocation is 0 (default_zero), so it fires at the end of the window, not only after
    # the no-data timeframe.
    assert "default_zero(sum:aws.lambda.invocations" in monitor["query"]
    assert monitor["notify_no_data"] is True
    calls = PIGEON.module_calls()
    for call in ("alarms", "datadog"):
        assert calls[call]["silence_window_minutes"] == "${var.silence_window_minutes}"
        assert calls[call]["traffic_enabled"] == "${var.traffic_enabled}"
