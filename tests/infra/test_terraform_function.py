"""The function module: its role grants exactly what Pigeon needs, it owns the Datadog
extension, and what the notification and the function must agree on comes from one value."""

from __future__ import annotations

import json

import pytest

from pigeon_tools.terraform import hcl, validate

FUNCTION = hcl.load(hcl.TERRAFORM / "modules" / "function")
PIGEON = hcl.load(hcl.TERRAFORM / "modules" / "pigeon")
LOCALS = FUNCTION.locals()
DATADOG, GOVCLOUD = "464622532012:layer", "002406178527:layer"  # Datadog's publishing accounts
needs_terraform = pytest.mark.skipif(not validate.available(), reason=validate.WHY_SKIPPED)


def statements() -> dict[str, dict]:
    """The role's policy statements by sid, the conditional (dynamic) ones included."""
    doc = FUNCTION.data("aws_iam_policy_document")["permissions"]
    found = {s["sid"]: s for s in doc["statement"]}
    for block in doc.get("dynamic", []):
        for content in block["statement"]["content"]:
            found[content["sid"]] = {**content, "when": block["statement"]["for_each"]}
    return found


def test_each_statement_of_the_role_grants_exactly_what_pigeon_needs():
    expected = {
        "WriteOwnLogs": (
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            ["${aws_cloudwatch_log_group.this.arn}:*"],
        ),
        "ReadBrokerSecret": (["secretsmanager:GetSecretValue"], ["${var.rabbitmq_secret_arn}"]),
        "DecryptBrokerSecret": (["kms:Decrypt"], ["${var.rabbitmq_secret_kms_key_arn}"]),
        "SendFailedEvents": (["sqs:SendMessage"], ["${aws_sqs_queue.on_failure.arn}"]),
        "ReadDatadogApiKey": (
            ["secretsmanager:GetSecretValue"],
            ["${var.datadog_api_key_secret_arn}"],
        ),
        "DecryptDatadogApiKey": (["kms:Decrypt"], ["${var.datadog_api_key_secret_kms_key_arn}"]),
        "ReadDeliveryQueue": (
            ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            ["${var.delivery_queue_arn}"],
        ),
    }
    found = statements()
    assert {sid: (s["actions"], s["resources"]) for sid, s in found.items()} == expected
    for sid in ("DecryptBrokerSecret", "DecryptDatadogApiKey"):
        [condition] = found[sid]["condition"]
        assert condition["variable"] == "kms:ViaService"  # through Secrets Manager only
    assert "local.dogstatsd" in found["ReadDatadogApiKey"]["when"]
    assert "datadog_api_key_secret_kms_key_arn != null" in found["DecryptDatadogApiKey"]["when"]


def test_dogstatsd_adds_the_extension_layer_and_its_settings():
    function = FUNCTION.resources("aws_lambda_function")["this"]
    assert (
        function["layers"]
        == "${local.dogstatsd ? concat(var.layers, [local.datadog_layer]) : var.layers}"
    )
    assert function["environment"][0]["variables"] == "${local.environment}"
    assert "local.datadog_environment" in LOCALS["environment"]
    environment = LOCALS["datadog_environment"]
    for name, value in {
        "DD_SITE": "var.datadog_site",
        "DD_API_KEY_SECRET_ARN": "var.datadog_api_key_secret_arn",
        "DD_ENV": "var.env",
        "DD_SERVICE": "var.service",
        "DD_VERSION": "var.artifact_version",
    }.items():
        assert f"{name} = {value}" in environment


@needs_terraform
@pytest.mark.parametrize(
    ("partition", "region", "architecture", "arn"),
    [
        ("aws", "us-west-2", "x86_64", f"arn:aws:lambda:us-west-2:{DATADOG}:Datadog-Extension:105"),
        ("aws", "eu-west-1", "arm64",
         f"arn:aws:lambda:eu-west-1:{DATADOG}:Datadog-Extension-ARM:105"),
        ("aws-us-gov", "us-gov-west-1", "x86_64",
         f"arn:aws-us-gov:lambda:us-gov-west-1:{GOVCLOUD}:Datadog-Extension:105"),
    ],
)  # fmt: skip
def test_the_extension_layer_arn_is_datadogs_for_the_region_and_architecture(
    partition, region, architecture, arn
):
    version = FUNCTION.variables()["datadog_extension_version"]["default"]
    literals = {
        "data.aws_partition.current.partition": json.dumps(partition),
        "data.aws_region.current.region": json.dumps(region),
        "var.architecture": json.dumps(architecture),
        "var.datadog_extension_version": str(version),
    }

    def literal(expression: str) -> str:
        for reference, value in literals.items():
            expression = expression.replace(reference, value)
        return expression.removeprefix("${").removesuffix("}")

    account = literal(LOCALS["datadog_account"])
    layer = literal(LOCALS["datadog_layer"]).replace("local.datadog_account", f"({account})")
    assert validate.evaluate(layer) == json.dumps(arn)


@needs_terraform
def test_dogstatsd_without_an_api_key_secret_fails_the_plan_with_a_clear_message():
    variables = FUNCTION.path / "variables.tf"
    checks = validate.Validations(
        validate.variable_block(variables, "metrics_sink"),
        validate.variable_block(variables, "datadog_api_key_secret_arn"),
    )
    key = "arn:aws:secretsmanager:us-west-2:123456789012:secret:datadog-api-key-AbCdEf"
    try:
        refused = checks.errors(metrics_sink="dogstatsd")
        assert "needs datadog_api_key_secret_arn" in refused
        assert checks.errors(metrics_sink="dogstatsd", datadog_api_key_secret_arn=key) == ""
        assert checks.errors(metrics_sink="log") == ""
    finally:
        checks.close()


def test_the_notification_and_the_function_agree_through_one_value_each():
    calls = PIGEON.module_calls()
    assert calls["bucket_notification"]["filter_prefix"] == "${var.key_prefix}"
    assert calls["function"]["key_prefix"] == "${var.key_prefix}"
    assert calls["bucket_notification"]["events"] == "${var.event_names}"
    assert calls["function"]["event_names"] == "${var.event_names}"
    environment = LOCALS["pigeon_environment"]
    assert environment["PIGEON_KEY_PREFIX"] == "${var.key_prefix}"
    assert environment["PIGEON_EVENT_NAMES"] == '${join(",", var.event_names)}'
    notification = hcl.load(hcl.TERRAFORM / "modules" / "bucket_notification")
    pigeon = notification.locals()["pigeon"]
    assert (pigeon["filter_prefix"], pigeon["events"]) == ("${var.filter_prefix}", "${var.events}")
    resource = notification.resources("aws_s3_bucket_notification")["this"]
    for block, target in hcl.pigeon_entries(resource).items():
        assert target["filter_prefix"] == f"${{{block}.value.filter_prefix}}"
        assert target["events"] == f"${{{block}.value.events}}"


def test_the_function_reads_the_event_names_as_the_notification_spells_them():
    from pigeon.config import load

    default = PIGEON.variables()["event_names"]["default"]
    environment = {
        "PIGEON_ENV": "t",
        "PIGEON_QUEUES": "q",
        "PIGEON_RABBITMQ_URL": "amqp://h/",
        "PIGEON_EVENT_NAMES": ",".join(default),
        "PIGEON_KEY_PREFIX": PIGEON.variables()["key_prefix"]["default"],
    }
    config = load(environment)
    assert config.event_names == {"ObjectCreated:Put"}
    assert config.key_prefix == "v2/raw_crash/"
