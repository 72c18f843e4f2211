"""Datadog from one place, and the alarms' windows: run by Terraform itself in an empty root
(no provider), each rule with a value just inside and one just outside, and the silence window
evaluated into what CloudWatch and Datadog take."""

from __future__ import annotations

import pytest

from pigeon_tools.terraform import hcl, validate

pytestmark = pytest.mark.skipif(not validate.available(), reason=validate.WHY_SKIPPED)

MODULES = hcl.TERRAFORM / "modules"
FORWARDER = "arn:aws:lambda:us-west-2:123456789012:function:DatadogForwarder"
DD_KEY = "arn:aws:secretsmanager:us-west-2:123456789012:secret:datadog-api-key-AbCdEf"
PIGEON_REQUIRED = {
    "env": "stage",
    "bucket_name": "crashstats-stage-raw",
    "traffic_enabled": True,
    "bucket_notifications": {},
    "zip_path": ".artifact/stage/pigeon.zip",
    "zip_sha256_path": ".artifact/stage/pigeon.zip.sha256",
}
WINDOWS = [5, 10, 15, 30, 60, 120, 240, 1440]


@pytest.fixture(scope="module")
def pigeon():
    checks = validate.Validations.of(MODULES / "pigeon" / "variables.tf", base=PIGEON_REQUIRED)
    yield checks
    checks.close()


def refused(checks: validate.Validations, message: str, **values: object) -> bool:
    errors = checks.errors(**values)
    assert errors, f"accepted: {values}"
    return message in " ".join(errors.split())


def test_a_first_deploy_needs_nothing_of_datadog(pigeon):
    assert pigeon.errors(function={"queues": "q"}) == ""


def test_monitors_need_a_way_for_the_metrics_to_reach_datadog(pigeon):
    message = "nothing sends them to Datadog"
    assert refused(pigeon, message, datadog_enabled=True, function={"queues": "q"})
    none = {"queues": "q", "metrics_sink": "none"}
    assert refused(pigeon, message, datadog_enabled=True, function=none)
    forwarder = {"queues": "q", "metrics_sink": "log", "datadog_forwarder_arn": FORWARDER}
    assert pigeon.errors(datadog_enabled=True, function=forwarder) == ""
    extension = {"queues": "q", "metrics_sink": "dogstatsd", "datadog_api_key_secret_arn": DD_KEY}
    assert pigeon.errors(datadog_enabled=True, function=extension) == ""


def test_the_forwarder_is_a_lambda_function_arn():
    required = {
        "name": "pigeon-stage",
        "env": "stage",
        "zip_path": "p.zip",
        "zip_sha256_path": "p.zip.sha256",
        "queues": "socorro.normal",
        "rabbitmq_secret_arn": "arn:aws:secretsmanager:us-west-2:123456789012:secret:p-AbCdEf",
        "rabbitmq_secret_kms_key_arn": "arn:aws:kms:us-west-2:123456789012:key/0000",
    }
    checks = validate.Validations.of(MODULES / "function" / "variables.tf", base=required)
    try:
        assert checks.errors(datadog_forwarder_arn=FORWARDER) == ""
        message = "must be the Forwarder's Lambda function ARN"
        assert refused(checks, message, datadog_forwarder_arn=FORWARDER + ":live")
        assert refused(checks, message, datadog_forwarder_arn=DD_KEY)
    finally:
        checks.close()
    subscription = hcl.load(MODULES / "function").resources(
        "aws_cloudwatch_log_subscription_filter"
    )["datadog"]
    assert subscription["count"] == "${var.datadog_forwarder_arn == null ? 0 : 1}"
    assert subscription["log_group_name"] == "${aws_cloudwatch_log_group.this.name}"
    assert subscription["destination_arn"] == "${var.datadog_forwarder_arn}"


@pytest.mark.parametrize("module", ["alarms", "datadog"])
def test_the_silence_window_is_one_both_cloudwatch_and_datadog_take(module):
    base = {
        "alarms": {"function_name": "p", "function_timeout": 30, "failure_queue_name": "q",
                   "log_group_name": "/aws/lambda/p"},
        "datadog": {"env": "stage", "function_name": "p"},
    }[module]  # fmt: skip
    checks = validate.Validations.of(
        MODULES / module / "variables.tf", base={**base, "traffic_enabled": True}
    )
    try:
        for minutes in WINDOWS:
            assert checks.errors(silence_window_minutes=minutes) == "", minutes
        for minutes in (0, 45, 90, 2880):
            assert refused(checks, "silence_window_minutes must be", silence_window_minutes=minutes)
    finally:
        checks.close()


@pytest.mark.parametrize("minutes", WINDOWS)
def test_the_window_becomes_a_datadog_time_window_and_cloudwatch_periods(minutes):
    datadog = hcl.load(MODULES / "datadog").locals()
    window = validate.evaluate_in(
        datadog, "${local.silence_window}", {"var.silence_window_minutes": minutes}
    )
    unit = {"m": 1, "h": 60, "d": 1440}[window[-1]]
    assert int(window.removeprefix("last_")[:-1]) * unit == minutes
    alarms = hcl.load(MODULES / "alarms").locals()
    values = {"var.silence_window_minutes": minutes}
    period = validate.evaluate_in(alarms, "${local.silence_period}", values)
    periods = validate.evaluate_in(alarms, "${local.silence_periods}", values)
    assert period * periods == minutes * 60
    assert period % 60 == 0
    assert periods == int(periods)
    # CloudWatch: under an hour a period spans one day in all, hourly ones seven days.
    assert period * periods <= (86400 if period < 3600 else 604800)
