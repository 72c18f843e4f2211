"""The plan, pull-request plan and apply roles' IAM policies, derived from the resource and data
types the root's modules declare: each type says which actions Terraform's AWS provider calls to
read it (refresh, and the reads after each write) and to write it (create, update, tag, delete).
A module that adds a type this table does not know fails tests/infra/test_deploy_iam.py, so the
roles shipped for the first apply always cover what it creates.

    scripts/deploy.sh ENV policy plan|pr-plan|apply   the policy JSON of one of ENV's roles

The three roles (docs/ci-cd.md, the roles): `plan` (the <env>-plan environment: deploy plans,
which take the state lock), `pr-plan` (<env>-pr-plan: pull-request plans, -lock=false, run from
any branch, so it writes nothing, not even the lock object) and `apply` (<env>).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Types that are no AWS API: Terraform itself, or another provider (its own keys).
NOT_AWS = ("terraform_data", "datadog_dashboard", "datadog_monitor", "datadog_")


@dataclass(frozen=True)
class Access:
    read: tuple[str, ...]
    write: tuple[str, ...] = ()


TAGS_EC2 = ("ec2:CreateTags", "ec2:DeleteTags")
RESOURCES: Mapping[str, Access] = {
    "aws_cloudwatch_log_group": Access(
        ("logs:DescribeLogGroups", "logs:ListTagsForResource", "logs:ListTagsLogGroup"),
        (
            "logs:CreateLogGroup",
            "logs:DeleteLogGroup",
            "logs:PutRetentionPolicy",
            "logs:DeleteRetentionPolicy",
            "logs:AssociateKmsKey",
            "logs:DisassociateKmsKey",
            "logs:TagResource",
            "logs:UntagResource",
            "logs:TagLogGroup",
            "logs:UntagLogGroup",
        ),
    ),
    "aws_cloudwatch_log_metric_filter": Access(
        ("logs:DescribeMetricFilters",),
        ("logs:PutMetricFilter", "logs:DeleteMetricFilter"),
    ),
    "aws_cloudwatch_log_subscription_filter": Access(
        ("logs:DescribeSubscriptionFilters",),
        # The Forwarder's resource policy lets logs invoke it; the caller passes no role.
        ("logs:PutSubscriptionFilter", "logs:DeleteSubscriptionFilter"),
    ),
    "aws_cloudwatch_metric_alarm": Access(
        ("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"),
        (
            "cloudwatch:PutMetricAlarm",
            "cloudwatch:DeleteAlarms",
            "cloudwatch:TagResource",
            "cloudwatch:UntagResource",
        ),
    ),
    "aws_iam_role": Access(
        (
            "iam:GetRole",
            "iam:ListRolePolicies",
            "iam:ListAttachedRolePolicies",
            "iam:ListInstanceProfilesForRole",
            "iam:ListRoleTags",
        ),
        (
            "iam:CreateRole",
            "iam:DeleteRole",
            "iam:UpdateRole",
            "iam:UpdateRoleDescription",
            "iam:UpdateAssumeRolePolicy",
            "iam:TagRole",
            "iam:UntagRole",
        ),
    ),
    "aws_iam_role_policy": Access(
        ("iam:GetRolePolicy", "iam:ListRolePolicies"),
        ("iam:PutRolePolicy", "iam:DeleteRolePolicy"),
    ),
    "aws_iam_role_policy_attachment": Access(
        ("iam:ListAttachedRolePolicies",), ("iam:AttachRolePolicy", "iam:DetachRolePolicy")
    ),
    "aws_kms_key": Access(
        (
            "kms:DescribeKey",
            "kms:GetKeyPolicy",
            "kms:GetKeyRotationStatus",
            "kms:ListResourceTags",
        ),
        (
            "kms:CreateKey",
            "kms:PutKeyPolicy",
            "kms:EnableKeyRotation",
            "kms:DisableKeyRotation",
            "kms:UpdateKeyDescription",
            "kms:EnableKey",
            "kms:DisableKey",
            "kms:TagResource",
            "kms:UntagResource",
            "kms:ScheduleKeyDeletion",
        ),
    ),
    "aws_kms_alias": Access(
        ("kms:ListAliases",), ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias")
    ),
    "aws_lambda_alias": Access(
        ("lambda:GetAlias", "lambda:ListAliases"),
        ("lambda:CreateAlias", "lambda:UpdateAlias", "lambda:DeleteAlias"),
    ),
    "aws_lambda_function": Access(
        (
            "lambda:GetFunction",
            "lambda:GetFunctionConfiguration",
            "lambda:GetFunctionCodeSigningConfig",
            "lambda:GetFunctionConcurrency",
            "lambda:GetRuntimeManagementConfig",
            "lambda:GetFunctionRecursionConfig",
            "lambda:ListVersionsByFunction",
            "lambda:ListTags",
            # A function in a VPC: Lambda checks the caller may see its network.
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeVpcs",
        ),
        (
            "lambda:CreateFunction",
            "lambda:DeleteFunction",
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
            "lambda:PublishVersion",
            "lambda:PutFunctionConcurrency",
            "lambda:DeleteFunctionConcurrency",
            "lambda:PutRuntimeManagementConfig",
            "lambda:PutFunctionRecursionConfig",
            "lambda:TagResource",
            "lambda:UntagResource",
            "iam:PassRole",
            # The Datadog extension's layer (metrics_sink = "dogstatsd"): Lambda checks that
            # the caller may read a layer version it attaches.
            "lambda:GetLayerVersion",
        ),
    ),
    "aws_lambda_function_event_invoke_config": Access(
        ("lambda:GetFunctionEventInvokeConfig",),
        (
            "lambda:PutFunctionEventInvokeConfig",
            "lambda:UpdateFunctionEventInvokeConfig",
            "lambda:DeleteFunctionEventInvokeConfig",
        ),
    ),
    "aws_lambda_event_source_mapping": Access(
        ("lambda:GetEventSourceMapping", "lambda:ListTags", "sqs:GetQueueAttributes"),
        (
            "lambda:CreateEventSourceMapping",
            "lambda:UpdateEventSourceMapping",
            "lambda:DeleteEventSourceMapping",
            "lambda:TagResource",
            "lambda:UntagResource",
        ),
    ),
    "aws_lambda_permission": Access(
        ("lambda:GetPolicy",), ("lambda:AddPermission", "lambda:RemovePermission")
    ),
    "aws_s3_bucket_notification": Access(
        ("s3:GetBucketNotification",), ("s3:PutBucketNotification",)
    ),
    "aws_secretsmanager_secret": Access(
        ("secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"),
        (
            "secretsmanager:CreateSecret",
            "secretsmanager:UpdateSecret",
            "secretsmanager:DeleteSecret",
            "secretsmanager:PutResourcePolicy",
            "secretsmanager:DeleteResourcePolicy",
            "secretsmanager:TagResource",
            "secretsmanager:UntagResource",
        ),
    ),
    "aws_security_group": Access(
        (
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSecurityGroupRules",
            "ec2:DescribeNetworkInterfaces",
        ),
        (
            "ec2:CreateSecurityGroup",
            "ec2:DeleteSecurityGroup",
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupEgress",
            *TAGS_EC2,
        ),
    ),
    "aws_sqs_queue": Access(
        ("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"),
        (
            "sqs:CreateQueue",
            "sqs:DeleteQueue",
            "sqs:SetQueueAttributes",
            "sqs:TagQueue",
            "sqs:UntagQueue",
        ),
    ),
    "aws_sqs_queue_policy": Access(("sqs:GetQueueAttributes",), ("sqs:SetQueueAttributes",)),
    "aws_sqs_queue_redrive_allow_policy": Access(
        ("sqs:GetQueueAttributes",), ("sqs:SetQueueAttributes",)
    ),
    "aws_vpc_endpoint": Access(
        (
            "ec2:DescribeVpcEndpoints",
            "ec2:DescribePrefixLists",
            "ec2:DescribeVpcEndpointServices",
        ),
        ("ec2:CreateVpcEndpoint", "ec2:ModifyVpcEndpoint", "ec2:DeleteVpcEndpoints", *TAGS_EC2),
    ),
    "aws_vpc_security_group_egress_rule": Access(
        ("ec2:DescribeSecurityGroupRules",),
        (
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:ModifySecurityGroupRules",
            *TAGS_EC2,
        ),
    ),
    "aws_vpc_security_group_ingress_rule": Access(
        ("ec2:DescribeSecurityGroupRules",),
        (
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupIngress",
            "ec2:ModifySecurityGroupRules",
            *TAGS_EC2,
        ),
    ),
}
DATA: Mapping[str, tuple[str, ...]] = {
    "aws_caller_identity": ("sts:GetCallerIdentity",),
    "aws_iam_policy_document": (),
    "aws_partition": (),
    "aws_region": (),
    "aws_s3_bucket": ("s3:ListBucket", "s3:GetBucketLocation"),
    "aws_security_group": ("ec2:DescribeSecurityGroups",),
    "aws_subnet": ("ec2:DescribeSubnets",),
    "aws_vpc": ("ec2:DescribeVpcs", "ec2:DescribeVpcAttribute"),
    "aws_vpc_endpoint": ("ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists"),
    "aws_vpc_security_group_rule": ("ec2:DescribeSecurityGroupRules",),
    "aws_vpc_security_group_rules": ("ec2:DescribeSecurityGroupRules",),
}
# deploy.sh's own reads before a plan or an apply (its preflights).
PREFLIGHT = (
    "sts:GetCallerIdentity",
    "secretsmanager:DescribeSecret",
    "s3:GetBucketNotification",
    "s3:GetBucketLocation",  # the bucket-region preflight
    "lambda:GetAccountSettings",
    "sqs:GetQueueAttributes",  # messages in a queue the plan would destroy
)
# The state, and its lock object (use_lockfile), in the state bucket.
STATE_READ = ("s3:GetObject",)
STATE_WRITE = ("s3:PutObject",)
LOCK = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
# Each role: whether it writes what the types declare, and whether it takes the state lock.
ROLES: Mapping[str, tuple[bool, bool]] = {
    "plan": (False, True),
    "pr-plan": (False, False),
    "apply": (True, True),
}
# Never for the plan roles: crash reports and secret values stay out of a plan's reach.
PLAN_DENY = ("s3:GetObject", "secretsmanager:GetSecretValue")
DECLARATION = re.compile(r'^\s*(resource|data)\s+"([A-Za-z0-9_]+)"', re.MULTILINE)


def declared(terraform: Path) -> dict[str, set[str]]:
    """The resource and data types every .tf under terraform/ (but the examples) declares."""
    found: dict[str, set[str]] = {"resource": set(), "data": set()}
    for path in sorted(terraform.rglob("*.tf")):
        if "examples" in path.relative_to(terraform).parts or ".terraform" in path.parts:
            continue
        for kind, name in DECLARATION.findall(path.read_text()):
            found[kind].add(name)
    return found


def is_aws(name: str) -> bool:
    return not name.startswith(NOT_AWS)


def uncovered(types: Mapping[str, Iterable[str]]) -> list[str]:
    """The declared AWS types this table says nothing about: the roles would lack them."""
    resources = types.get("resource", ())
    missing = [f"resource {t}" for t in resources if is_aws(t) and t not in RESOURCES]
    missing += [f"data {t}" for t in types.get("data", ()) if is_aws(t) and t not in DATA]
    return sorted(missing)


def actions(types: Mapping[str, Iterable[str]], *, write: bool) -> list[str]:
    wanted = set(PREFLIGHT)
    for name in types.get("resource", ()):
        if name in RESOURCES:
            wanted.update(RESOURCES[name].read)
            if write:
                wanted.update(RESOURCES[name].write)
    for name in types.get("data", ()):
        wanted.update(DATA.get(name, ()))
    return sorted(wanted)


def policy(
    types: Mapping[str, Iterable[str]],
    *,
    role: str,
    state_bucket: str,
    state_key: str,
    crash_bucket: str,
    account_id: str,
    env: str,
) -> dict[str, Any]:
    """The policy document of ENV's plan, pull-request plan or apply role."""
    if role not in ROLES:
        raise ValueError(f"role {role!r}: {' or '.join(ROLES)}")
    write, locks = ROLES[role]
    every = actions(types, write=write)
    passrole = [a for a in every if a == "iam:PassRole"]
    rest = [a for a in every if a != "iam:PassRole"]
    state = f"arn:aws:s3:::{state_bucket}/{state_key}"
    statements: list[dict[str, Any]] = [
        {"Sid": "StateList", "Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": f"arn:aws:s3:::{state_bucket}"},
        {"Sid": "State", "Effect": "Allow",
         "Action": sorted({*STATE_READ, *(STATE_WRITE if write else ())}), "Resource": state},
    ]  # fmt: skip
    if locks:
        statements.append(
            {"Sid": "StateLock", "Effect": "Allow", "Action": list(LOCK),
             "Resource": f"{state}.tflock"}
        )  # fmt: skip
    statements.append({"Sid": "Resources", "Effect": "Allow", "Action": rest, "Resource": "*"})
    if passrole:
        statements.append(
            {
                "Sid": "PassTheFunctionsRole",
                "Effect": "Allow",
                "Action": passrole,
                "Resource": f"arn:aws:iam::{account_id}:role/pigeon-{env}*",
                "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            }
        )
    if not write:
        statements.append(
            {
                "Sid": "NoCrashReportsNoSecretValues",
                "Effect": "Deny",
                "Action": list(PLAN_DENY),
                "Resource": [
                    f"arn:aws:s3:::{crash_bucket}/*",
                    "arn:aws:secretsmanager:*:*:secret:*",
                ],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def allowed(document: Mapping[str, Any]) -> set[str]:
    """Every action a policy document allows (on some resource)."""
    found: set[str] = set()
    for statement in document["Statement"]:
        if statement["Effect"] == "Allow":
            action = statement["Action"]
            found.update([action] if isinstance(action, str) else action)
    return found


# What writes: Terraform's state and its lock object, and what the declared types change.
WRITES = frozenset(
    {*STATE_WRITE, *LOCK} - set(STATE_READ)
    | {a for access in RESOURCES.values() for a in access.write if a not in access.read}
)


def writes(document: Mapping[str, Any]) -> list[str]:
    """The actions of a policy that write: a role with none can change nothing Terraform keeps
    (state, lock, resources)."""
    return sorted(allowed(document) & WRITES)


def render(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"
