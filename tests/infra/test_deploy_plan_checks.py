"""deploy.sh's checks of the plan (`terraform show -json`, by resource type), against moto's
account: a queue holding messages is not destroyed unless named (its message count is said),
the bucket's notifications that others own survive the apply (21.2), and a reserved
concurrency Lambda would refuse is refused before the apply (21.3)."""

from __future__ import annotations

import pytest

from support.deploy_world import ACCOUNT, change, plan_document, prepared

BUCKET = "crashes-stage"
FUNCTION = f"arn:aws:lambda:us-west-2:{ACCOUNT}:function:pigeon-stage"
OTHER_FUNCTION = f"arn:aws:lambda:us-west-2:{ACCOUNT}:function:thumbnailer"
PIGEON_EVENTS = ["s3:ObjectCreated:Put"]
PREFIX = "v2/raw_crash/"
NOTIFICATION = "module.pigeon.module.bucket_notification.aws_s3_bucket_notification.this"
FUNCTION_ADDRESS = "module.pigeon.module.function.aws_lambda_function.this"


@pytest.fixture
def world(tmp_path, deploy_aws):
    world = prepared(tmp_path, deploy_aws)
    world.attest_artifact(world.dist)
    return world


def run(world, *args, **env):
    return world.deploy(world.checkout_path, *args, **env)


def applied(world) -> bool:
    return any(c["args"][0] == "apply" for c in world.terraform_calls())


def lambda_entry(arn, events=PIGEON_EVENTS, prefix=PREFIX, entry_id=None):
    return {
        "id": entry_id,
        "lambda_function_arn": arn,
        "events": events,
        "filter_prefix": prefix,
        "filter_suffix": "",
    }


def notification(actions, lambdas=(), queues=(), eventbridge=False, unknown=None, before=None):
    after = {
        "bucket": BUCKET,
        "eventbridge": eventbridge,
        "lambda_function": list(lambdas),
        "queue": list(queues),
        "topic": [],
    }
    return change(NOTIFICATION, "aws_s3_bucket_notification", actions, before, after, unknown)


def function(actions, reserved_after, reserved_before=None, architectures=("x86_64",)):
    before = None
    if reserved_before is not None:
        before = {
            "arn": FUNCTION,
            "function_name": "pigeon-stage",
            "reserved_concurrent_executions": reserved_before,
        }
    after = {
        "function_name": "pigeon-stage",
        "reserved_concurrent_executions": reserved_after,
        "architectures": list(architectures),
    }
    return change(FUNCTION_ADDRESS, "aws_lambda_function", actions, before, after, {"arn": True})


def pigeon_only():
    """What the module plans on a bucket it owns alone: Pigeon's entry, to the new function."""
    return notification(
        ["create"],
        lambdas=[lambda_entry(None)],
        unknown={"lambda_function": [{"lambda_function_arn": True, "id": True}]},
    )


# --- destroy protection ------------------------------------------------------------------


def test_a_queue_holding_messages_is_not_destroyed_unless_named(world):
    sqs = world.aws("sqs")
    url = sqs.create_queue(QueueName="pigeon-stage-on-failure")["QueueUrl"]
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"failed event {n}")
    address = "module.pigeon.module.function.aws_sqs_queue.on_failure"
    queue = change(
        address,
        "aws_sqs_queue",
        ["delete"],
        before={"name": "pigeon-stage-on-failure", "url": url, "id": url},
    )
    key = "module.pigeon.module.function.aws_kms_key.this"
    kms = change(
        key,
        "aws_kms_key",
        ["delete", "create"],
        before={"key_id": "k-1", "deletion_window_in_days": 7},
        after={"deletion_window_in_days": 7},
    )
    world.plan(plan_document(queue, kms))
    done = run(world, "stage", "apply")
    assert done.returncode == 1, done.stderr
    assert "nothing applied" in done.stderr
    assert (
        f"{address} would be destroyed: lost would be the queue pigeon-stage-on-failure and "
        in (done.stderr)
    )
    assert "ApproximateNumberOfMessages 3" in done.stderr
    assert f"{key} would be replaced" in done.stderr
    assert f"--allow-destroy '{address}'" in done.stderr
    assert not applied(world)
    assert not (world.root(world.checkout_path) / ".plan" / "stage" / "tfplan").exists()
    allowed = run(world, "stage", "apply", "--allow-destroy", address, "--allow-destroy", key)
    assert allowed.returncode == 0, allowed.stderr
    assert f"destroy: {address} will be destroyed, as --allow-destroy says" in allowed.stderr
    assert applied(world)


def test_what_holds_no_data_may_go(world):
    permission = change(
        "module.pigeon.aws_lambda_permission.s3",
        "aws_lambda_permission",
        ["delete", "create"],
        before={"statement_id": "s3"},
        after={"statement_id": "s3"},
    )
    world.plan(plan_document(permission))
    done = run(world, "stage", "apply")
    assert done.returncode == 0, done.stderr


# --- the bucket's notifications (21.2) ---------------------------------------------------


def foreign_configuration(world):
    sqs = world.aws("sqs")
    queue_url = sqs.create_queue(QueueName="indexer")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    world.aws("s3").put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "Id": "thumbnails",
                    "LambdaFunctionArn": OTHER_FUNCTION,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".png"}]}},
                }
            ],
            "QueueConfigurations": [
                {"Id": "index", "QueueArn": queue_arn, "Events": ["s3:ObjectRemoved:*"]}
            ],
            "EventBridgeConfiguration": {},
        },
    )
    return queue_arn


def test_an_apply_that_would_wipe_others_notifications_is_refused_with_each_listed(world):
    foreign_configuration(world)
    world.plan(plan_document(pigeon_only()))
    done = run(world, "stage", "apply")
    assert done.returncode == 1, done.stderr
    assert (
        f"would remove lambda {OTHER_FUNCTION} (id thumbnails): s3:ObjectCreated:*" in done.stderr
    )
    assert "ending '.png'" in done.stderr
    assert "would remove queue arn:aws:sqs:us-west-2:123456789012:indexer (id index)" in done.stderr
    assert f"would turn EventBridge delivery off on {BUCKET}" in done.stderr
    assert f"--allow-destroy 's3://{BUCKET}#thumbnails'" in done.stderr
    assert "take it over in terraform/environments/stage.tfvars" in done.stderr
    assert not applied(world)


def test_a_plan_that_leaves_the_bucket_alone_passes_and_names_what_to_take_over(world):
    foreign_configuration(world)
    world.plan(plan_document(function(["create"], 5)))  # the first deploy: traffic off
    done = run(world, "stage", "apply")
    assert done.returncode == 0, done.stderr
    assert (
        f"{BUCKET} has entries this state does not manage (lambda {OTHER_FUNCTION}" in done.stderr
    )
    assert "EventBridge on); take them over in terraform/environments/stage.tfvars" in done.stderr


def test_entries_taken_over_are_written_back_and_pass(world):
    queue_arn = foreign_configuration(world)
    kept = notification(
        ["update"],
        lambdas=[
            lambda_entry(None),
            {
                "id": "thumbnails",
                "lambda_function_arn": OTHER_FUNCTION,
                "events": ["s3:ObjectCreated:*"],
                "filter_prefix": "",
                "filter_suffix": ".png",
            },
        ],
        queues=[
            {
                "id": "index",
                "queue_arn": queue_arn,
                "events": ["s3:ObjectRemoved:*"],
                "filter_prefix": None,
                "filter_suffix": None,
            }
        ],
        eventbridge=True,
        unknown={"lambda_function": [{"lambda_function_arn": True}, {}]},
        before={"bucket": BUCKET},
    )
    world.plan(plan_document(kept))
    done = run(world, "stage", "apply")
    assert done.returncode == 0, done.stderr


def test_a_bucket_with_nothing_foreign_passes(world):
    world.plan(plan_document(pigeon_only()))
    done = run(world, "stage", "apply")
    assert done.returncode == 0, done.stderr
    assert applied(world)


def pigeon_is_subscribed(world):
    world.aws("s3").put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "Id": "pigeon",
                    "LambdaFunctionArn": FUNCTION,
                    "Events": PIGEON_EVENTS,
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": PREFIX}]}},
                }
            ]
        },
    )


def test_pigeons_entry_may_move_to_its_queue_but_not_vanish(world):
    pigeon_is_subscribed(world)
    existing = function(["no-op"], 5, 5)
    to_queue = notification(
        ["update"],
        queues=[
            {
                "id": None,
                "queue_arn": None,
                "events": PIGEON_EVENTS,
                "filter_prefix": PREFIX,
                "filter_suffix": "",
            }
        ],
        unknown={"queue": [{"queue_arn": True, "id": True}]},
        before={"bucket": BUCKET},
    )
    world.plan(plan_document(existing, to_queue))
    moved = run(world, "stage", "apply")
    assert moved.returncode == 0, moved.stderr
    traffic_off = notification(["update"], before={"bucket": BUCKET})
    world.plan(plan_document(existing, traffic_off))
    refused = run(world, "stage", "apply")
    assert refused.returncode == 1
    assert f"would remove lambda {FUNCTION} (id pigeon)" in refused.stderr
    allowed = run(world, "stage", "apply", "--allow-destroy", f"s3://{BUCKET}#pigeon")
    assert allowed.returncode == 0, allowed.stderr


# --- the account's concurrency (21.3) ------------------------------------------------------


def test_a_reservation_lambda_would_refuse_is_refused_with_what_to_do(world, deploy_aws):
    _, behaviour, _ = deploy_aws
    behaviour.fresh_account()
    world.plan(plan_document(function(["create"], 5)))
    done = run(world, "stage", "apply")
    assert done.returncode == 1, done.stderr
    assert (
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [10]."
    ) in done.stderr
    assert_says_both_fixes(done.stderr, "stage", unreserved=10)
    assert "reserve at most" not in done.stderr  # nothing can be reserved there
    assert not applied(world)


def assert_says_both_fixes(said, env, unreserved):
    """The refusal names the file, null and what it means for the broker, and the quota."""
    assert (
        f"set reserved_concurrent_executions = null (in function = {{…}}) in "
        f"terraform/environments/{env}.tfvars until the quota is raised"
    ) in said
    assert (
        "null is unreserved, so the function may run as many environments as the account's "
        f"unreserved concurrency ({unreserved} now), each with its own broker connection, and "
        "the broker-connections check holds that to the broker's limit"
    ) in said
    assert (
        "ask for a larger quota: Service Quotas → AWS Lambda → Concurrent executions "
        "(L-B99A9384) → Request increase at account level"
    ) in said


def test_the_committed_reservation_on_a_fresh_account_is_refused_and_null_deploys(
    world, deploy_aws
):
    """A new AWS account (a quota of 10, all unreserved) and stage.tfvars as committed
    (reserved_concurrent_executions = 5): refused, with both ways out; with null, as the
    refusal says, the first apply goes through."""
    _, behaviour, _ = deploy_aws
    behaviour.fresh_account()
    model = {"FAKE_TERRAFORM_MODEL": "support.first_deploy_model:Root"}
    committed = world.settings(world.checkout_path)["function"]["reserved_concurrent_executions"]
    assert committed == 5
    done = run(world, "stage", "apply", **model)
    assert done.returncode == 1, done.stderr
    assert "would reserve 5 concurrent executions (now 0)" in done.stderr
    assert_says_both_fixes(done.stderr, "stage", unreserved=10)
    assert not applied(world)

    function = world.settings(world.checkout_path)["function"]
    world.settings(
        world.checkout_path, function={**function, "reserved_concurrent_executions": None}
    )
    done = run(world, "stage", "apply", **model)
    assert done.returncode == 0, done.stderr
    assert applied(world)


def test_reservations_the_account_can_hold_pass_and_a_raise_counts_only_the_difference(
    world, deploy_aws
):
    _, behaviour, _ = deploy_aws
    behaviour.concurrent_executions, behaviour.unreserved = 1000, 105
    world.plan(plan_document(function(["update"], 10, reserved_before=5)))
    assert run(world, "stage", "apply").returncode == 0  # 5 more, 105 - 100 free
    world.plan(plan_document(function(["update"], 11, reserved_before=5)))
    done = run(world, "stage", "apply")
    assert done.returncode == 1
    assert "reserve at most 10 in terraform/environments/stage.tfvars; or set " in done.stderr
    assert_says_both_fixes(done.stderr, "stage", unreserved=105)


def test_unreserved_is_null_not_0_and_passes_on_a_fresh_account(world, deploy_aws):
    """reserved_concurrent_executions = null plans as the provider's -1 (unreserved): nothing
    is taken from a new account's 10."""
    _, behaviour, _ = deploy_aws
    behaviour.fresh_account()
    world.plan(plan_document(function(["create"], -1)))
    done = run(world, "stage", "apply")
    assert done.returncode == 0, done.stderr
    assert applied(world)


def test_removing_a_reservation_gives_it_back_even_on_a_full_account(world, deploy_aws):
    _, behaviour, _ = deploy_aws
    behaviour.concurrent_executions = behaviour.unreserved = 110
    behaviour.reserve(10)  # Pigeon's own, which the plan removes: 100 left, Lambda's minimum
    world.plan(plan_document(function(["update"], -1, reserved_before=10)))
    assert run(world, "stage", "apply").returncode == 0


# --- the broker's connections with unreserved concurrency (#24 part 3) ---------------------

BROKER_ADDRESS = "module.pigeon.terraform_data.broker_connections"


def broker(limit, maximum_concurrency=None, per=1, other=5):
    given = {
        "broker_connection_limit": limit,
        "maximum_concurrency": maximum_concurrency,
        "connections_per_environment": per,
        "other_connections": other,
    }
    return change(BROKER_ADDRESS, "terraform_data", ["create"], None, {"input": given})


@pytest.mark.parametrize(("unreserved", "ok"), [(495, True), (496, False)])
def test_unreserved_concurrency_is_bounded_by_the_brokers_connections(
    world, deploy_aws, unreserved, ok
):
    """The account's unreserved concurrency x 1 connection + 5 other clients against a
    t3.micro's 500: just inside, and just outside."""
    _, behaviour, _ = deploy_aws
    behaviour.concurrent_executions, behaviour.unreserved = 1000, unreserved
    world.plan(plan_document(function(["create"], -1), broker(500)))
    done = run(world, "stage", "apply")
    how = (
        f"the function's concurrency is unreserved, so the account's unreserved concurrency "
        f"bounds it: {unreserved} environments x 1 connection(s) each + 5 of other clients = "
        f"{unreserved + 5} connections, and the broker holds 500"
    )
    assert how in done.stderr, done.stderr
    if ok:
        assert done.returncode == 0, done.stderr
        assert applied(world)
    else:
        assert done.returncode == 1
        assert f"broker-connections: {BROKER_ADDRESS}: " in done.stderr
        assert "set reserved_concurrent_executions to at most 495" in done.stderr
        assert not applied(world)


def test_a_reserved_concurrency_or_no_broker_limit_is_left_to_the_plan(world, deploy_aws):
    """The Terraform precondition checks a reservation; without a limit nothing is checked."""
    world.plan(plan_document(function(["create"], 5), broker(500, maximum_concurrency=5)))
    assert run(world, "stage", "apply").returncode == 0
    world.plan(plan_document(function(["create"], -1), broker(None)))
    done = run(world, "stage", "apply")
    assert done.returncode == 0, done.stderr
    assert "broker connections" not in done.stderr


def test_the_functions_architecture_must_be_the_zips(world):
    world.plan(plan_document(function(["create"], 5, architectures=("arm64",))))
    done = run(world, "stage", "apply")
    assert done.returncode == 1
    assert "would run on ['arm64'], the zip was checked for x86_64" in done.stderr
