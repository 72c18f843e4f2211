"""Every rule AWS enforces only at apply (or that the function meets only at init, as a
timeout) is refused at plan time with a message that says what to change. Each rule is run
here by Terraform itself with a value just inside and one just outside: variable validations
in an empty root (no provider needed), and the expressions of preconditions with
`terraform console`, on the values the data sources would read."""

from __future__ import annotations

import re

import pytest

from pigeon_tools.terraform import hcl, validate

pytestmark = pytest.mark.skipif(not validate.available(), reason=validate.WHY_SKIPPED)

MODULES = hcl.TERRAFORM / "modules"
FUNCTION = hcl.load(MODULES / "function")
DELIVERY = hcl.load(MODULES / "sqs_delivery")
NOTIFICATION = hcl.load(MODULES / "bucket_notification")
ROOT_VARIABLES = hcl.TERRAFORM / "environments" / "variables.tf"

SUBNET, GROUP = "subnet-0123456789abcdef0", "sg-0123456789abcdef0"
DD_KEY = "arn:aws:secretsmanager:us-west-2:123456789012:secret:datadog-api-key-AbCdEf"
FUNCTION_REQUIRED = {
    "name": "pigeon-stage",
    "env": "stage",
    "zip_path": ".artifact/stage/pigeon.zip",
    "zip_sha256_path": ".artifact/stage/pigeon.zip.sha256",
    "queues": "socorro.normal",
    "rabbitmq_secret_arn": "arn:aws:secretsmanager:us-west-2:123456789012:secret:p-AbCdEf",
    "rabbitmq_secret_kms_key_arn": "arn:aws:kms:us-west-2:123456789012:key/0000",
}
DELIVERY_REQUIRED = {
    "name": "pigeon-stage",
    "bucket_name": "crashstats-stage-raw",
    "bucket_account_id": "123456789012",
    "function_name": "pigeon-stage",
    "function_timeout": 30,
    "traffic_enabled": True,
}
NOTIFICATION_REQUIRED = {
    "bucket_name": "crashstats-stage-raw",
    "bucket_account_id": "123456789012",
    "function_arn": "arn:aws:lambda:us-west-2:123456789012:function:pigeon-stage",
    "function_name": "pigeon-stage",
    "traffic_enabled": True,
}


@pytest.fixture(scope="module")
def function():
    checks = validate.Validations.of(FUNCTION.path / "variables.tf", base=FUNCTION_REQUIRED)
    yield checks
    checks.close()


@pytest.fixture(scope="module")
def delivery():
    checks = validate.Validations.of(DELIVERY.path / "variables.tf", base=DELIVERY_REQUIRED)
    yield checks
    checks.close()


@pytest.fixture(scope="module")
def notification():
    variables = NOTIFICATION.path / "variables.tf"
    checks = validate.Validations.of(variables, base=NOTIFICATION_REQUIRED)
    yield checks
    checks.close()


def refused(checks: validate.Validations, message: str, **values: object) -> bool:
    errors = checks.errors(**values)
    assert errors, f"accepted: {values}"
    return message in " ".join(errors.split())  # Terraform wraps its messages


# -- the function in a VPC ---------------------------------------------------------------------


def test_subnets_need_security_groups(function):
    vpc = {"vpc_subnet_ids": [SUBNET], "vpc_egress": "nat"}
    assert refused(function, '"SubnetIds and SecurityIds must coexist"', **vpc)
    assert function.errors(**vpc, vpc_security_group_ids=[GROUP]) == ""
    made = {"create_security_group": True, "broker_cidr_blocks": ["10.0.8.0/24"]}
    assert function.errors(**vpc, **made) == ""


def test_security_groups_need_subnets(function):
    assert refused(function, "without vpc_subnet_ids", vpc_security_group_ids=[GROUP])
    assert function.errors(vpc_security_group_ids=[]) == ""


def test_a_vpc_needs_a_route_to_secrets_manager(function):
    vpc = {"vpc_subnet_ids": [SUBNET], "vpc_security_group_ids": [GROUP]}
    assert refused(function, "set vpc_egress", **vpc)
    for egress in ("nat", "secretsmanager_endpoint", "create_secretsmanager_endpoint"):
        assert function.errors(**vpc, vpc_egress=egress) == ""
    assert refused(function, "vpc_egress must be nat", **vpc, vpc_egress="internet")
    assert refused(function, "applies only in a VPC", vpc_egress="nat")


def test_the_datadog_extension_in_a_vpc_needs_a_nat(function):
    vpc = {"vpc_subnet_ids": [SUBNET], "vpc_security_group_ids": [GROUP]}
    dogstatsd = {"metrics_sink": "dogstatsd", "datadog_api_key_secret_arn": DD_KEY}
    message = "Datadog's intake on the internet"
    assert refused(function, message, **vpc, **dogstatsd, vpc_egress="secretsmanager_endpoint")
    assert function.errors(**vpc, **dogstatsd, vpc_egress="nat") == ""
    assert function.errors(**vpc, vpc_egress="secretsmanager_endpoint", metrics_sink="log") == ""


def test_the_module_made_group_needs_the_brokers_address_and_subnets(function):
    made = {"vpc_subnet_ids": [SUBNET], "vpc_egress": "nat", "create_security_group": True}
    assert refused(function, "give the broker's CIDR blocks", **made)
    assert function.errors(**made, broker_cidr_blocks=["10.0.8.0/24"]) == ""
    assert refused(function, "IPv4 CIDR blocks", **made, broker_cidr_blocks=["10.0.8.0"])
    alone = {"create_security_group": True, "broker_cidr_blocks": ["10.0.8.0/24"]}
    assert refused(function, "give vpc_subnet_ids", **alone)


@pytest.mark.parametrize(("port", "ok"), [(0, False), (1, True), (65535, True), (65536, False)])
def test_the_broker_port_is_a_port(function, port, ok):
    assert (function.errors(broker_port=port) == "") is ok


# -- the function's own limits -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "inside", "outside"),
    [
        ("memory_size", [128, 10240], [127, 10241, 128.5]),
        ("timeout", [1, 900], [0, 901]),
        ("reserved_concurrent_executions", [1], [0, 1.5]),
        ("maximum_retry_attempts", [0, 2], [3]),
        ("maximum_event_age_in_seconds", [60, 21600], [59, 21601]),
        ("cloudwatch_logs_retention_in_days", [14, 3653], [15, 0]),
        ("failure_queue_retention_seconds", [60, 1209600], [59, 1209601]),
    ],
)
def test_lambdas_limits(function, name, inside, outside):
    for value in inside:
        assert function.errors(**{name: value}) == "", (name, value)
    for value in outside:
        assert function.errors(**{name: value}), (name, value)


def test_environment_variable_keys_lambda_accepts(function):
    assert function.errors(environment_variables={"PIGEON_PUBLISH_TIMEOUT": "5", "AB": "x"}) == ""
    assert refused(function, "Lambda refuses these keys", environment_variables={"A": "x"})
    assert refused(function, "Lambda refuses these keys", environment_variables={"_X": "x"})
    assert refused(function, "Lambda refuses these keys", environment_variables={"A-B": "x"})


def test_lambdas_reserved_keys_are_refused(function):
    assert refused(function, "Lambda reserves these keys", environment_variables={"TZ": "UTC"})
    assert refused(
        function, "AWS_REGION: remove them", environment_variables={"AWS_REGION": "eu-west-1"}
    )
    assert function.errors(environment_variables={"AWS_REGIONS": "x"}) == ""


def test_the_modules_own_environment_is_not_overridden(function):
    """The list in the validation is the module's own environment, both ways."""
    datadog = re.findall(r"\b(DD_[A-Z_]+) = ", FUNCTION.locals()["datadog_environment"])
    own = {*FUNCTION.locals()["pigeon_environment"], *datadog}
    assert own == {"PIGEON_ENV", "PIGEON_QUEUES", "PIGEON_RABBITMQ_SECRET_ARN",
                   "PIGEON_KEY_PREFIX", "PIGEON_EVENT_NAMES", "PIGEON_METRICS",
                   "PIGEON_LOG_LEVEL", "DD_SITE", "DD_API_KEY_SECRET_ARN", "DD_ENV",
                   "DD_SERVICE", "DD_VERSION"}  # fmt: skip
    block = validate.variable_block(FUNCTION.path / "variables.tf", "environment_variables")
    for name in own:
        assert f'"{name}"' in block, name
    assert refused(function, "PIGEON_QUEUES", environment_variables={"PIGEON_QUEUES": "x"})


def test_at_most_five_layers_with_the_datadog_extension(function):
    five = [f"arn:aws:lambda:us-west-2:123456789012:layer:l{i}:1" for i in range(5)]
    dogstatsd = {"metrics_sink": "dogstatsd", "datadog_api_key_secret_arn": DD_KEY}
    assert function.errors(layers=five) == ""
    assert refused(function, "at most 5 layers", layers=five, **dogstatsd)
    assert function.errors(layers=five[:4], **dogstatsd) == ""
    assert refused(function, "at most 5 layers", layers=[*five, five[0] + "0"])


def test_more_than_4_kb_of_environment_is_refused_at_plan():
    """The precondition's own expressions, on environments of 4096 and 4097 bytes."""
    rules = FUNCTION.resources("aws_lambda_function")["this"]["lifecycle"][0]["precondition"]
    size_rule = rules[0]
    locals_ = FUNCTION.locals()

    def passes(environment: dict[str, str]) -> bool:
        values = {"local.environment": environment}
        return validate.evaluate_in(locals_, size_rule["condition"], values) is True

    key = "PIGEON_PADDING"
    assert passes({key: "x" * (4096 - len(key))})
    assert not passes({key: "x" * (4097 - len(key))})
    assert not passes({"A1": "x" * 2000, "B1": "x" * 2095})


def test_the_precondition_list_is_the_one_tested():
    rules = FUNCTION.resources("aws_lambda_function")["this"]["lifecycle"][0]["precondition"]
    conditions = [r["condition"] for r in rules]
    assert conditions == [
        "${local.environment_size <= 4096}",
        "${length(local.vpc_ids) <= 1}",
        "${length(local.missing_egress_ports) == 0}",
    ]


def vpc_ids(subnets: list[str], groups: list[str]) -> list[str]:
    return validate.evaluate_in(
        FUNCTION.locals(),
        FUNCTION.locals()["vpc_ids"],
        {
            "data.aws_subnet.this": {f"s{i}": {"vpc_id": v} for i, v in enumerate(subnets)},
            "data.aws_security_group.given": {f"g{i}": {"vpc_id": v} for i, v in enumerate(groups)},
        },
    )


def test_subnets_and_groups_must_be_in_one_vpc():
    assert len(vpc_ids(["vpc-1", "vpc-1"], ["vpc-1"])) == 1
    assert len(vpc_ids(["vpc-1"], [])) == 1
    assert len(vpc_ids(["vpc-1"], ["vpc-2"])) == 2
    assert len(vpc_ids(["vpc-1", "vpc-2"], [])) == 2


def missing_egress(*rules: dict, port: int = 5671, checked: bool = True) -> list[int]:
    return validate.evaluate_in(
        FUNCTION.locals(),
        FUNCTION.locals()["missing_egress_ports"],
        {
            "local.check_given_egress": checked,
            "var.broker_port": port,
            "data.aws_vpc_security_group_rule.given": {f"sgr-{i}": r for i, r in enumerate(rules)},
        },
    )


def rule(protocol: str, low: int, high: int, egress: bool = True) -> dict:
    return {"is_egress": egress, "ip_protocol": protocol, "from_port": low, "to_port": high}


def test_your_groups_must_allow_egress_on_443_and_the_broker_port():
    assert missing_egress() == [443, 5671]
    assert missing_egress(rule("-1", -1, -1)) == []  # the default group's allow-all
    assert missing_egress(rule("tcp", 443, 443), rule("tcp", 5671, 5671)) == []
    assert missing_egress(rule("tcp", 443, 5671)) == []
    assert missing_egress(rule("6", 0, 65535)) == []
    assert missing_egress(rule("tcp", 443, 443)) == [5671]
    assert missing_egress(rule("tcp", 444, 5670)) == [443, 5671]  # just outside, both ends
    assert missing_egress(rule("udp", 0, 65535)) == [443, 5671]
    assert missing_egress(rule("-1", -1, -1, egress=False)) == [443, 5671]  # ingress
    assert missing_egress(rule("tcp", 443, 443), port=443) == []
    assert missing_egress(checked=False) == []  # the module's own group has both


def test_the_endpoint_takes_one_subnet_per_zone():
    subnets = {
        "subnet-b": {"id": "subnet-b", "availability_zone": "us-west-2a"},
        "subnet-a": {"id": "subnet-a", "availability_zone": "us-west-2a"},
        "subnet-c": {"id": "subnet-c", "availability_zone": "us-west-2b"},
    }
    chosen = validate.evaluate_in(
        FUNCTION.locals(),
        FUNCTION.locals()["endpoint_subnet_ids"],
        {"data.aws_subnet.this": subnets},
    )
    assert sorted(chosen) == ["subnet-a", "subnet-c"]


def test_the_endpoints_private_dns_needs_the_vpcs_dns_attributes():
    endpoint = FUNCTION.resources("aws_vpc_endpoint")["secretsmanager"]
    [rule_] = endpoint["lifecycle"][0]["precondition"]

    def passes(support: bool, hostnames: bool) -> bool:
        vpc = [{"enable_dns_support": support, "enable_dns_hostnames": hostnames}]
        return validate.evaluate_with(rule_["condition"], {"data.aws_vpc.this": vpc}) is True

    assert passes(True, True)
    assert not passes(True, False)
    assert not passes(False, True)


def test_an_existing_endpoint_must_have_private_dns():
    endpoint = FUNCTION.data("aws_vpc_endpoint")["secretsmanager"]
    [rule_] = endpoint["lifecycle"][0]["postcondition"]

    def passes(private_dns: bool, state: str) -> bool:
        found = {"private_dns_enabled": private_dns, "state": state}
        return validate.evaluate_with(rule_["condition"], {"self": found}) is True

    assert passes(True, "available")
    assert not passes(False, "available")
    assert not passes(True, "pending")


# -- SQS delivery ------------------------------------------------------------------------------


def test_a_batch_above_10_needs_a_batching_window(delivery):
    assert delivery.errors(batch_size=10, maximum_batching_window_in_seconds=0) == ""
    message = "without a batching window"
    assert refused(delivery, message, batch_size=11, maximum_batching_window_in_seconds=0)
    assert delivery.errors(batch_size=11, maximum_batching_window_in_seconds=1) == ""
    assert delivery.errors(batch_size=10000, maximum_batching_window_in_seconds=300) == ""
    assert delivery.errors(batch_size=10001, maximum_batching_window_in_seconds=300)
    assert delivery.errors(maximum_batching_window_in_seconds=301)


def test_the_visibility_timeout_covers_six_timeouts_and_the_batching_window(delivery):
    window = {"function_timeout": 30, "maximum_batching_window_in_seconds": 10}
    assert delivery.errors(**window, visibility_timeout_seconds=190) == ""
    assert refused(delivery, "(190 s)", **window, visibility_timeout_seconds=189)
    assert delivery.errors(**window, visibility_timeout_seconds=None) == ""
    assert delivery.errors(function_timeout=1, visibility_timeout_seconds=43200) == ""
    assert refused(delivery, "at most 43200", function_timeout=1, visibility_timeout_seconds=43201)


@pytest.mark.parametrize(
    ("timeout", "window", "visibility"), [(30, 0, 180), (30, 20, 200), (1, 0, 30), (900, 300, 5700)]
)
def test_the_computed_visibility_timeout_is_the_least_aws_advises(timeout, window, visibility):
    values = {
        "var.visibility_timeout_seconds": None,
        "var.function_timeout": timeout,
        "var.maximum_batching_window_in_seconds": window,
    }
    locals_ = DELIVERY.locals()
    assert (
        validate.evaluate_in(locals_, locals_["visibility_timeout_seconds"], values) == visibility
    )


def test_the_queues_concurrency_is_lambdas_range_and_says_where_it_comes_from(delivery):
    assert refused(delivery, "reserved_concurrent_executions", maximum_concurrency=1)
    assert delivery.errors(maximum_concurrency=2) == ""
    assert delivery.errors(maximum_concurrency=1000) == ""
    assert delivery.errors(maximum_concurrency=1001)


def test_the_dead_letter_queue_takes_sqs_receive_counts(delivery):
    assert delivery.errors(max_receive_count=1) == ""
    assert delivery.errors(max_receive_count=1000) == ""
    assert delivery.errors(max_receive_count=0)
    assert delivery.errors(max_receive_count=1001)


# -- the bucket's notification -----------------------------------------------------------------

TOPIC = {"topic_arn": "arn:aws:sns:us-west-2:123456789012:t", "events": ["s3:ObjectRemoved:*"]}


def test_each_entry_needs_its_own_id(notification):
    assert notification.errors(sns_notifications={"processed": TOPIC}) == ""
    assert refused(notification, "needs its own Id", sns_notifications={"pigeon-raw-crash": TOPIC})
    queue = {"queue_arn": "arn:aws:sqs:us-west-2:123456789012:q", "events": ["s3:ObjectRemoved:*"]}
    assert refused(
        notification,
        "needs its own Id",
        sns_notifications={"audit": TOPIC},
        sqs_notifications={"audit": queue},
    )


def test_queue_delivery_needs_the_queue(notification):
    assert refused(notification, "needs queue_arn", destination="queue")
    arn = "arn:aws:sqs:us-west-2:123456789012:pigeon-stage-delivery"
    assert notification.errors(destination="queue", queue_arn=arn) == ""


def entry(id_: str, events: list[str], prefix: str = "", suffix: str = "") -> dict:
    return {"id": id_, "events": events, "filter_prefix": prefix, "filter_suffix": suffix}


PIGEON = entry("pigeon-raw-crash", ["s3:ObjectCreated:Put"], "v2/raw_crash/")


def overlaps(*others: dict) -> list[str]:
    values = {"local.entries": [PIGEON, *others]}
    return validate.evaluate_in(NOTIFICATION.locals(), NOTIFICATION.locals()["overlaps"], values)


@pytest.mark.parametrize(
    ("other", "overlap"),
    [
        (entry("a", ["s3:ObjectCreated:Put"], "v2/raw_crash/"), True),
        (entry("a", ["s3:ObjectCreated:*"], "v2/"), True),  # a wildcard, a shorter prefix
        (entry("a", ["s3:ObjectCreated:*"], "v2/raw_crash/2026"), True),  # a longer prefix
        (entry("a", ["s3:ObjectCreated:*"]), True),  # no filter: every key
        (entry("a", ["s3:ObjectCreated:Put"], "v2/raw_crash/", ".json"), True),
        (entry("a", ["s3:ObjectCreated:*"], "v2/raw_crashes/"), False),  # just outside
        (entry("a", ["s3:ObjectCreated:*"], "v1/"), False),
        (entry("a", ["s3:ObjectCreated:Copy"], "v2/raw_crash/"), False),
        (entry("a", ["s3:ObjectRemoved:*"]), False),
    ],
)
def test_entries_s3_would_refuse_as_overlapping(other, overlap):
    assert overlaps(other) == (["pigeon-raw-crash and a"] if overlap else [])


def test_overlapping_suffixes_only_overlap_when_one_ends_the_other():
    json_ = entry("a", ["s3:ObjectCreated:*"], "v1/", ".json")
    assert overlaps(json_, entry("b", ["s3:ObjectCreated:*"], "v1/", ".dmp")) == []
    assert overlaps(json_, entry("b", ["s3:ObjectCreated:*"], "v1/", "x.json")) == ["a and b"]


# -- the root ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def root():
    checks = validate.Validations(
        validate.variable_block(ROOT_VARIABLES, "artifact_dir"),
        validate.variable_block(ROOT_VARIABLES, "account_id"),
        validate.variable_block(ROOT_VARIABLES, "region"),
        base={
            "artifact_dir": ".artifact/stage",
            "account_id": "111111111111",
            "region": "us-west-2",
        },
    )
    yield checks
    checks.close()


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        (".artifact/stage", True),
        (".artifact/stage/", True),
        ("dist", True),
        ("/home/runner/work/pigeon/pigeon/dist", False),
        ("../../dist", False),
        (".artifact/../../dist", False),
        ("~/dist", False),
        ("C:\\dist", False),
        ("", False),
    ],
)
def test_the_artifact_path_is_relative_to_the_root(root, path, ok):
    errors = root.errors(artifact_dir=path)
    assert (errors == "") is ok
    if not ok:
        assert "relative to terraform/environments" in " ".join(errors.split())


@pytest.mark.parametrize(
    ("account", "ok"), [("111111111111", True), ("11111111111", False), ("1111111111111", False)]
)
def test_the_account_is_a_12_digit_id(root, account, ok):
    assert (root.errors(account_id=account) == "") is ok


@pytest.mark.parametrize(
    ("region", "ok"), [("us-west-2", True), ("us-gov-west-1", True), ("uswest2", False)]
)
def test_the_region_is_an_aws_region(root, region, ok):
    assert (root.errors(region=region) == "") is ok


def test_the_bucket_must_be_in_the_functions_region():
    permission = NOTIFICATION.resources("aws_lambda_permission")["s3"]
    [rule_] = permission["lifecycle"][0]["precondition"]

    def passes(bucket_region: str) -> bool:
        values = {
            "data.aws_s3_bucket.this": {"bucket_region": bucket_region},
            "data.aws_region.current": {"region": "us-west-2"},
        }
        return validate.evaluate_with(rule_["condition"], values) is True

    assert passes("us-west-2")
    assert not passes("us-west-1")
    assert not passes("eu-west-2")
