"""Every rule AWS enforces only at apply (or that the function meets only at init, as a
timeout) is refused at plan time with a message that says what to change. Each rule is run
here by Terraform itself with a value just inside and one just outside: variable validations
in an empty root (no provider needed), and the expressions of preconditions with
`terraform console`, on the values the data sources would read."""

from __future__ import annotations

import json
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


@pytest.mark.parametrize(("count", "ok"), [(1, True), (16, True), (17, False)])
def test_at_most_16_subnets(function, count, ok):
    subnets = [f"subnet-{i:017x}" for i in range(count)]
    vpc = {"vpc_subnet_ids": subnets, "vpc_security_group_ids": [GROUP], "vpc_egress": "nat"}
    errors = function.errors(**vpc)
    assert (errors == "") is ok
    if not ok:
        assert "at most 16 subnets" in " ".join(errors.split())


@pytest.mark.parametrize(
    ("given", "made", "ok"),
    [(5, False, True), (4, True, True), (6, False, False), (5, True, False)],
)
def test_at_most_5_security_groups_the_modules_own_included(function, given, made, ok):
    groups = [f"sg-{i:017x}" for i in range(given)]
    vpc = {"vpc_subnet_ids": [SUBNET], "vpc_security_group_ids": groups, "vpc_egress": "nat"}
    if made:
        vpc |= {"create_security_group": True, "broker_cidr_blocks": ["10.0.8.0/24"]}
    errors = function.errors(**vpc)
    assert (errors == "") is ok, errors
    if not ok:
        assert "at most 5 security groups" in " ".join(errors.split())


@pytest.mark.parametrize(("port", "ok"), [(0, False), (1, True), (65535, True), (65536, False)])
def test_the_broker_port_is_a_port(function, port, ok):
    assert (function.errors(broker_port=port) == "") is ok


# -- the function's own limits -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "inside", "outside"),
    [
        ("memory_size", [128, 10240], [127, 10241, 128.5]),
        ("timeout", [1, 900], [0, 901]),
        ("reserved_concurrent_executions", [None, 1], [0, -1, 1.5]),
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


# https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
# "Reserved environment variables": the keys Lambda sets itself and refuses in a configuration.
LAMBDA_RESERVED = [
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ",
]  # fmt: skip
# Documented as not reserved: a function may set (extend) them.
LAMBDA_UNRESERVED = ["LANG", "PATH", "LD_LIBRARY_PATH", "PYTHONPATH", "AWS_LAMBDA_EXEC_WRAPPER"]


@pytest.mark.parametrize("key", LAMBDA_RESERVED)
def test_lambdas_reserved_keys_are_refused_by_name(function, key):
    errors = " ".join(function.errors(environment_variables={key: "x"}).split())
    assert "Lambda reserves these keys and refuses the function" in errors, key
    assert f": {key}: remove them" in errors, key


def test_the_reserved_list_is_lambdas_and_no_more(function):
    block = validate.variable_block(FUNCTION.path / "variables.tf", "environment_variables")
    [condition] = [line for line in block.splitlines() if "Lambda reserves" not in line
                   and "AWS_REGION" in line and "condition" in line]  # fmt: skip
    assert sorted(re.findall(r'"([A-Z_]+)"', condition)) == sorted(LAMBDA_RESERVED)
    assert function.errors(environment_variables=dict.fromkeys(LAMBDA_UNRESERVED, "x")) == ""
    assert function.errors(environment_variables={"AWS_REGIONS": "x", "TZDATA": "x"}) == ""


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


def measured(environment: dict[str, str]) -> int:
    """What Lambda measures against its 4 KB: the map as compact JSON, in UTF-8 bytes (its
    refusal quotes the string: "exceeded the 4KB limit. String measured: {"A":"b"}")."""
    return len(json.dumps(environment, separators=(",", ":"), ensure_ascii=False).encode())


def environment_size(environment: dict[str, str]) -> int:
    locals_ = FUNCTION.locals()
    values = {"local.environment": environment}
    return validate.evaluate_in(locals_, locals_["environment_size"], values)


@pytest.mark.parametrize(
    "environment",
    [
        {},
        {"A1": "x"},
        {"A1": "x", "B2": "yy"},
        {"QUOTES": 'say "hi"', "SLASH": "a\\b", "LINES": "a\nb\tc"},
        {"HTML": "<a href='x'>&amp;</a>"},  # jsonencode writes these as \u003c, \u003e, \u0026
        {"UTF8": "café ☃ 🐦"},  # 2, 3 and 4 bytes a character
        {"PIGEON_QUEUES": "socorro.normal,15:socorro.submitter", "PIGEON_ENV": "stage"},
    ],
)
def test_the_size_is_the_json_lambda_measures(environment):
    assert environment_size(environment) == measured(environment)


def test_more_than_4_kb_of_environment_is_refused_at_plan():
    """The precondition's own expression, on environments whose JSON is 4096 and 4097 bytes:
    the names, the quotes, the colons and the commas count, as Lambda counts them."""
    rules = FUNCTION.resources("aws_lambda_function")["this"]["lifecycle"][0]["precondition"]
    size_rule = rules[0]
    locals_ = FUNCTION.locals()

    def passes(environment: dict[str, str]) -> bool:
        values = {"local.environment": environment}
        return validate.evaluate_in(locals_, size_rule["condition"], values) is True

    key = "PIGEON_PADDING"
    overhead = measured({key: ""})  # {"PIGEON_PADDING":""}
    assert passes({key: "x" * (4096 - overhead)})
    assert not passes({key: "x" * (4097 - overhead)})
    # Two entries: what a sum of names and values (4095 here) lets through, Lambda refuses.
    two = {"A1": "x" * 2000, "B1": "x" * 2091}
    assert sum(len(k) + len(v) for k, v in two.items()) == 4095
    assert measured(two) == 4108
    assert not passes(two)
    # Characters of more than one byte count as their bytes.
    assert passes({key: "é" * ((4096 - overhead) // 2)})
    assert not passes({key: "é" * ((4096 - overhead) // 2 + 1)})


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


def test_the_dead_letter_queue_keeps_a_message_as_long_as_the_source_queue():
    """SQS keeps a standard queue's message enqueue time when it moves it to the dead-letter
    queue: a dead-letter queue with a shorter retention deletes moved messages early (AWS: set
    it longer than the source's). Both are SQS's most, 14 days, not variables."""
    queues = DELIVERY.resources("aws_sqs_queue")
    source = queues["this"]["message_retention_seconds"]
    dead = queues["dead_letter"]["message_retention_seconds"]
    assert dead >= source == 1209600


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


# -- the broker's connections (#24 part 3) -----------------------------------------------------

PIGEON_MODULE = hcl.load(MODULES / "pigeon")
# AWS's sizing guidelines for Amazon MQ for RabbitMQ, single-instance maximum connections
# (https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rabbitmq-sizing-guidelines.html)
SIZING = {
    "mq.t3.micro": 500, "mq.m5.large": 5000, "mq.m5.xlarge": 10000, "mq.m5.2xlarge": 20000,
    "mq.m5.4xlarge": 40000, "mq.m7g.medium": 300, "mq.m7g.large": 5000,
    "mq.m7g.xlarge": 10000, "mq.m7g.2xlarge": 20000, "mq.m7g.4xlarge": 40000,
    "mq.m7g.8xlarge": 80000, "mq.m7g.12xlarge": 120000,
}  # fmt: skip


def broker_values(reserved, **broker) -> dict:
    given = {"connection_limit": None, "instance_type": None, "other_connections": 0}
    given |= {"connections_per_environment": 1} | broker
    return {"var.broker": given, "var.function": {"reserved_concurrent_executions": reserved}}


def broker_rules() -> list[dict]:
    data = PIGEON_MODULE.resources("terraform_data")["broker_connections"]
    return data["lifecycle"][0]["precondition"]


def broker_passes(rule: int, reserved, **broker) -> bool:
    condition = broker_rules()[rule]["condition"]
    values = broker_values(reserved, **broker)
    return validate.evaluate_in(PIGEON_MODULE.locals(), condition, values) is True


def test_the_instance_table_is_awss_sizing_guidelines():
    assert PIGEON_MODULE.locals()["broker_connection_limits"] == SIZING


@pytest.mark.parametrize(
    ("reserved", "broker", "ok"),
    [
        (490, {"instance_type": "mq.t3.micro", "other_connections": 10}, True),
        (491, {"instance_type": "mq.t3.micro", "other_connections": 10}, False),
        (300, {"instance_type": "mq.m7g.medium"}, True),
        (301, {"instance_type": "mq.m7g.medium"}, False),
        (50, {"connection_limit": 100, "connections_per_environment": 2}, True),
        (51, {"connection_limit": 100, "connections_per_environment": 2}, False),
        (1000, {"instance_type": "mq.m5.large", "other_connections": 4000}, True),
        (1001, {"instance_type": "mq.m5.large", "other_connections": 4000}, False),
        (None, {"instance_type": "mq.t3.micro"}, True),  # unreserved: deploy.sh's check
        (10000, {}, True),  # no limit given: nothing to check
    ],
)
def test_the_concurrency_must_fit_the_brokers_connections(reserved, broker, ok):
    assert broker_passes(1, reserved, **broker) is ok


def test_the_refusal_names_the_numbers():
    values = broker_values(491, instance_type="mq.t3.micro", other_connections=10)
    message = validate.evaluate_in(
        PIGEON_MODULE.locals(), broker_rules()[1]["error_message"], values
    )
    assert (
        "reserved_concurrent_executions = 491 environments x 1 connection(s) each + 10 of other "
        "clients = 501, and the broker (mq.t3.micro) holds 500. Lower "
        "reserved_concurrent_executions to at most 490"
    ) in message


def test_an_instance_type_outside_the_table_is_refused():
    assert broker_passes(0, 5, instance_type="mq.m5.large")
    assert broker_passes(0, 5)
    assert not broker_passes(0, 5, instance_type="mq.m5.medium")
    assert not broker_passes(0, 5, instance_type="m5.large")  # Amazon MQ's names have mq.


@pytest.fixture(scope="module")
def pigeon_variables():
    block = validate.variable_block(PIGEON_MODULE.path / "variables.tf", "broker")
    checks = validate.Validations(block)
    yield checks
    checks.close()


def test_the_broker_is_a_limit_or_a_type_not_both(pigeon_variables):
    assert pigeon_variables.errors(broker={}) == ""
    assert pigeon_variables.errors(broker={"connection_limit": 500}) == ""
    assert pigeon_variables.errors(broker={"instance_type": "mq.t3.micro"}) == ""
    both = {"connection_limit": 500, "instance_type": "mq.t3.micro"}
    assert refused(pigeon_variables, "not both", broker=both)
    assert refused(pigeon_variables, "at least 1", broker={"connection_limit": 0})
    assert refused(pigeon_variables, "0 or more", broker={"other_connections": -1})
    assert refused(pigeon_variables, "Pigeon opens one", broker={"connections_per_environment": 0})


def test_the_plan_says_when_the_account_is_the_bound():
    [check] = [
        c for c in PIGEON_MODULE.blocks.get("check", []) if "broker_connections_unreserved" in c
    ]
    [assertion] = check["broker_connections_unreserved"]["assert"]
    locals_ = PIGEON_MODULE.locals()
    unreserved = broker_values(None, instance_type="mq.t3.micro")
    assert validate.evaluate_in(locals_, assertion["condition"], unreserved) is False
    reserved = broker_values(5, instance_type="mq.t3.micro")
    assert validate.evaluate_in(locals_, assertion["condition"], reserved) is True
