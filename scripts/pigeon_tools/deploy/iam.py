"""The plan, pull-request plan and apply roles' IAM policies, derived from the resource and data
types the root's modules declare: each type says which actions Terraform's AWS provider calls to
read it (refresh, and the reads after each write) and to write it (create, update, tag, delete).
A module that adds a type this table does not know fails tests/infra/test_deploy_iam.py, so the
roles shipped for the first apply always cover what it creates.

    scripts/deploy.sh ENV policy plan|pr-plan|apply   the policy JSON of one of ENV's roles

The three roles (docs/ci-cd.md, the roles): `plan` (the <env>-plan environment: deploy plans,
which take the state lock), `pr-plan` (<env>-pr-plan: pull-request plans, -lock=false, run from
any branch, so it writes nothing, not even the lock object) and `apply` (<env>).

Each action is held to Pigeon's own resources of the environment (SCOPE, ARNS: the names the
modules give them, from terraform/modules/pigeon's local.name), since the account is shared and
anyone who can push a branch can assume the pull-request plan role. "Resource": "*" is left
only for the actions IAM authorizes on no resource (UNSCOPED).
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
            # Deleting a security group first deletes the Lambda ENIs left in it (the
            # provider's deleteLingeringLambdaENI), or the delete waits and fails.
            "ec2:DetachNetworkInterface",
            "ec2:DeleteNetworkInterface",
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

# Where each action may act. The account is shared with other teams (the crash bucket is
# theirs already), so every action is held to Pigeon's own resources of the environment
# wherever IAM can name them: the resource types each action authorizes, and their ARN
# formats, are AWS's Service Authorization Reference
# (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html:
# list_awslambda, list_amazoncloudwatchlogs, list_amazoncloudwatch, list_awskeymanagementservice,
# list_awssecretsmanager, list_amazonsqs, list_awsidentityandaccessmanagementiam, list_amazons3,
# list_amazonec2, list_awssecuritytokenservice; checked June 2026). {name} is the prefix the
# modules give every resource (terraform/modules/pigeon: local.name, "pigeon-${var.env}").
ARNS: Mapping[str, tuple[str, ...]] = {
    # The function (aws_lambda_function: {name}) and its versions and aliases ({name}:QUALIFIER).
    "function": (
        "arn:{partition}:lambda:{region}:{account}:function:{name}",
        "arn:{partition}:lambda:{region}:{account}:function:{name}:*",
    ),
    # Its role, exactly ({name}-lambda: terraform/modules/function); the inline policy and the
    # attachment are the role's actions. Never a prefix: the deploy roles themselves may be
    # named pigeon-ENV-… (the apply role could otherwise rewrite its own policy).
    "role": ("arn:{partition}:iam::{account}:role/{name}-lambda",),
    # The log group /aws/lambda/{name}: the newer actions name it bare, the older with ":*".
    "log-group": (
        "arn:{partition}:logs:{region}:{account}:log-group:/aws/lambda/{name}",
        "arn:{partition}:logs:{region}:{account}:log-group:/aws/lambda/{name}:*",
    ),
    "alarm": ("arn:{partition}:cloudwatch:{region}:{account}:alarm:{name}-*",),
    # {name}-on-failure, {name}-delivery, {name}-delivery-dlq.
    "queue": ("arn:{partition}:sqs:{region}:{account}:{name}-*",),
    # {name}/rabbitmq, and the six characters Secrets Manager adds to its ARN.
    "secret": ("arn:{partition}:secretsmanager:{region}:{account}:secret:{name}/*",),
    "alias": ("arn:{partition}:kms:{region}:{account}:alias/{name}/*",),
    "crash-bucket": ("arn:{partition}:s3:::{crash_bucket}",),
    # By type only: a key is named by a random id (the plan roles add the alias condition,
    # KEY_BY_ALIAS); an event source mapping by a random UUID; a layer version is Datadog's
    # or yours, in another account; EC2 resources by ids, in a VPC that may be shared from
    # another account.
    "key": ("arn:{partition}:kms:{region}:{account}:key/*",),
    "event-source-mapping": ("arn:{partition}:lambda:{region}:{account}:event-source-mapping:*",),
    "layer": ("arn:{partition}:lambda:{region}:*:layer:*:*",),
    "ec2": ("arn:{partition}:ec2:{region}:*:*",),
    # No resource type at all: the Reference lists none for these actions (UNSCOPED).
    "*": ("*",),
}
BY_TYPE_ONLY = frozenset({"key", "event-source-mapping", "layer", "ec2"})
# The actions IAM authorizes on no resource (the Reference lists no resource type): the one
# place "Resource": "*" is allowed. Each reads account-level facts or lists, or creates a
# thing whose name is not known before (kms:CreateKey); lambda:CreateEventSourceMapping is
# held to Pigeon's function by its lambda:FunctionArn condition instead.
UNSCOPED = frozenset(
    {
        "sts:GetCallerIdentity",
        "lambda:GetAccountSettings",
        "lambda:CreateEventSourceMapping",
        "logs:DescribeLogGroups",
        "kms:ListAliases",
        "kms:CreateKey",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribePrefixLists",
        "ec2:DescribeSecurityGroupRules",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcEndpointServices",
        "ec2:DescribeVpcEndpoints",
        "ec2:DescribeVpcs",
    }
)
# Action -> the kinds of ARNS it may act on (the Reference's resource types for it).
SCOPE: Mapping[str, tuple[str, ...]] = {
    **{a: ("*",) for a in UNSCOPED},
    **dict.fromkeys(
        (
            "lambda:GetFunction",
            "lambda:GetFunctionConfiguration",
            "lambda:GetFunctionCodeSigningConfig",
            "lambda:GetFunctionConcurrency",
            "lambda:GetRuntimeManagementConfig",
            "lambda:GetFunctionRecursionConfig",
            "lambda:ListVersionsByFunction",
            "lambda:GetAlias",
            "lambda:ListAliases",
            "lambda:GetFunctionEventInvokeConfig",
            "lambda:GetPolicy",
            "lambda:CreateFunction",
            "lambda:DeleteFunction",
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
            "lambda:PublishVersion",
            "lambda:PutFunctionConcurrency",
            "lambda:DeleteFunctionConcurrency",
            "lambda:PutRuntimeManagementConfig",
            "lambda:PutFunctionRecursionConfig",
            "lambda:CreateAlias",
            "lambda:UpdateAlias",
            "lambda:DeleteAlias",
            "lambda:PutFunctionEventInvokeConfig",
            "lambda:UpdateFunctionEventInvokeConfig",
            "lambda:DeleteFunctionEventInvokeConfig",
            "lambda:AddPermission",
            "lambda:RemovePermission",
        ),
        ("function",),
    ),
    # Tags of the function and of the event source mapping.
    **dict.fromkeys(
        ("lambda:ListTags", "lambda:TagResource", "lambda:UntagResource"),
        ("function", "event-source-mapping"),
    ),
    **dict.fromkeys(
        (
            "lambda:GetEventSourceMapping",
            "lambda:UpdateEventSourceMapping",
            "lambda:DeleteEventSourceMapping",
        ),
        ("event-source-mapping",),
    ),
    "lambda:GetLayerVersion": ("layer",),
    **dict.fromkeys(
        (
            "iam:GetRole",
            "iam:ListRolePolicies",
            "iam:ListAttachedRolePolicies",
            "iam:ListInstanceProfilesForRole",
            "iam:ListRoleTags",
            "iam:GetRolePolicy",
            "iam:CreateRole",
            "iam:DeleteRole",
            "iam:UpdateRole",
            "iam:UpdateRoleDescription",
            "iam:UpdateAssumeRolePolicy",
            "iam:TagRole",
            "iam:UntagRole",
            "iam:PutRolePolicy",
            "iam:DeleteRolePolicy",
            "iam:AttachRolePolicy",
            "iam:DetachRolePolicy",
            "iam:PassRole",
        ),
        ("role",),
    ),
    **dict.fromkeys(
        (
            "logs:ListTagsForResource",
            "logs:ListTagsLogGroup",
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
            "logs:DescribeMetricFilters",
            "logs:PutMetricFilter",
            "logs:DeleteMetricFilter",
            "logs:DescribeSubscriptionFilters",
            "logs:PutSubscriptionFilter",
            "logs:DeleteSubscriptionFilter",
        ),
        ("log-group",),
    ),
    **dict.fromkeys(
        (
            "cloudwatch:DescribeAlarms",
            "cloudwatch:ListTagsForResource",
            "cloudwatch:PutMetricAlarm",
            "cloudwatch:DeleteAlarms",
            "cloudwatch:TagResource",
            "cloudwatch:UntagResource",
        ),
        ("alarm",),
    ),
    **dict.fromkeys(
        (
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
            "sqs:ListQueueTags",
            "sqs:CreateQueue",
            "sqs:DeleteQueue",
            "sqs:SetQueueAttributes",
            "sqs:TagQueue",
            "sqs:UntagQueue",
        ),
        ("queue",),
    ),
    **dict.fromkeys(
        (
            "secretsmanager:DescribeSecret",
            "secretsmanager:GetResourcePolicy",
            "secretsmanager:CreateSecret",
            "secretsmanager:UpdateSecret",
            "secretsmanager:DeleteSecret",
            "secretsmanager:PutResourcePolicy",
            "secretsmanager:DeleteResourcePolicy",
            "secretsmanager:TagResource",
            "secretsmanager:UntagResource",
        ),
        ("secret",),
    ),
    **dict.fromkeys(
        (
            "kms:DescribeKey",
            "kms:GetKeyPolicy",
            "kms:GetKeyRotationStatus",
            "kms:ListResourceTags",
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
        ("key",),
    ),
    # An alias action authorizes both the alias and the key it points to.
    **dict.fromkeys(("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"), ("alias", "key")),
    **dict.fromkeys(
        (
            "s3:ListBucket",
            "s3:GetBucketLocation",
            "s3:GetBucketNotification",
            "s3:PutBucketNotification",
        ),
        ("crash-bucket",),
    ),
    **dict.fromkeys(
        (
            "ec2:DescribeVpcAttribute",
            "ec2:CreateSecurityGroup",
            "ec2:DeleteSecurityGroup",
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupIngress",
            "ec2:ModifySecurityGroupRules",
            "ec2:CreateVpcEndpoint",
            "ec2:ModifyVpcEndpoint",
            "ec2:DeleteVpcEndpoints",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "ec2:DetachNetworkInterface",
            "ec2:DeleteNetworkInterface",
        ),
        ("ec2",),
    ),
}
# The plan roles read only the key Pigeon's alias names (kms:ResourceAliases, a condition key
# of the key resource type). The apply role reads a key it has just made before the alias
# exists, so it has the key resource type of the account and region.
KEY_BY_ALIAS = {"ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/{name}/*"}}
# Event source mappings are written only for Pigeon's function (the Reference's condition key).
FOR_THE_FUNCTION = {"ArnLike": {"lambda:FunctionArn": list(ARNS["function"])}}
ESM_WRITES = (
    "lambda:CreateEventSourceMapping",
    "lambda:UpdateEventSourceMapping",
    "lambda:DeleteEventSourceMapping",
    "lambda:GetEventSourceMapping",  # a read, held alike: no role reads other teams' mappings
)
# The key actions that could harm a key that is not Pigeon's: held to Pigeon's alias for
# the apply role too (they are never called before the alias exists; those of the first
# apply, before it, are the ones left out: PutKeyPolicy, EnableKeyRotation, TagResource and
# the reads).
KEY_HARMS = frozenset(
    {
        "kms:DisableKey",
        "kms:DisableKeyRotation",
        "kms:ScheduleKeyDeletion",
        "kms:UntagResource",
        "kms:UpdateKeyDescription",
        "kms:EnableKey",
    }
)
# The one managed policy Pigeon's role may have attached (the VPC option's).
ATTACH_ENI = {
    "ArnEquals": {
        "iam:PolicyARN": "arn:{partition}:iam::aws:policy/service-role/AWSLambdaENIManagementAccess"
    }
}
PASS_TO_LAMBDA = {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}


def partition_of(region: str) -> str:
    """The AWS partition of a region's ARNs (aws, aws-us-gov, aws-cn)."""
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws"


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


def resource_name(terraform: Path, env: str) -> str:
    """The prefix of every resource name, for ENV: terraform/modules/pigeon's local.name, which
    the modules build each name from (the function, {name}-lambda, {name}/rabbitmq, …)."""
    from pigeon_tools.terraform.hcl import load

    expression = load(terraform / "modules" / "pigeon").locals()["name"]
    if not isinstance(expression, str) or "${" in expression.replace("${var.env}", ""):
        raise ValueError(f"terraform/modules/pigeon: local.name = {expression!r}: not of env alone")
    return expression.replace("${var.env}", env)


def arns(kinds: Iterable[str], **names: str) -> list[str]:
    """The ARN patterns of these kinds, for one environment's names."""
    return [pattern.format(**names) for kind in kinds for pattern in ARNS[kind]]


def _filled(value: Any, names: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, list):
        return [_filled(v, names) for v in value]
    return {k: _filled(v, names) for k, v in value.items()}


def condition(action: str, *, write: bool) -> Mapping[str, Any] | None:
    """The condition an action is held to, beyond its resources (None: none)."""
    if action == "iam:PassRole":
        return PASS_TO_LAMBDA
    if action in ESM_WRITES:
        return FOR_THE_FUNCTION
    if action in ("iam:AttachRolePolicy", "iam:DetachRolePolicy"):
        return ATTACH_ENI
    if (
        "key" in SCOPE[action]
        and "alias" not in SCOPE[action]
        and (not write or action in KEY_HARMS)
    ):
        return KEY_BY_ALIAS
    return None


def policy(
    types: Mapping[str, Iterable[str]],
    *,
    role: str,
    state_bucket: str,
    state_key: str,
    crash_bucket: str,
    account_id: str,
    region: str,
    env: str,
    name: str,
) -> dict[str, Any]:
    """The policy document of ENV's plan, pull-request plan or apply role: each action on the
    resources SCOPE gives it, and nothing of the account's other resources that IAM can tell
    apart (UNSCOPED, BY_TYPE_ONLY: what it cannot)."""
    if role not in ROLES:
        raise ValueError(f"role {role!r}: {' or '.join(ROLES)}")
    write, locks = ROLES[role]
    names = {
        "region": region,
        "account": account_id,
        "name": name,
        "crash_bucket": crash_bucket,
        "partition": partition_of(region),
    }
    state = f"arn:{names['partition']}:s3:::{state_bucket}/{state_key}"
    statements: list[dict[str, Any]] = [
        {"Sid": "StateList", "Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": f"arn:{names['partition']}:s3:::{state_bucket}"},
        {"Sid": "State", "Effect": "Allow",
         "Action": sorted({*STATE_READ, *(STATE_WRITE if write else ())}), "Resource": state},
    ]  # fmt: skip
    if locks:
        statements.append(
            {"Sid": "StateLock", "Effect": "Allow", "Action": list(LOCK),
             "Resource": f"{state}.tflock"}
        )  # fmt: skip
    # One statement per (resources, condition): the actions that share them.
    groups: dict[tuple[tuple[str, ...], str], list[str]] = {}
    for action in actions(types, write=write):
        held = condition(action, write=write)
        key = (SCOPE[action], json.dumps(held, sort_keys=True) if held else "")
        groups.setdefault(key, []).append(action)
    for (kinds, text), grouped in sorted(groups.items()):
        held = json.loads(text) if text else None
        statement: dict[str, Any] = {
            "Sid": "".join(k.title().replace("-", "") for k in kinds).replace("*", "Unscoped")
            + ("When" + _sid(held) if held else ""),
            "Effect": "Allow",
            "Action": sorted(grouped),
            "Resource": "*" if kinds == ("*",) else arns(kinds, **names),
        }
        if held:
            statement["Condition"] = _filled(held, names)
        statements.append(statement)
    if not write:
        statements.append(
            {
                "Sid": "NoCrashReportsNoSecretValues",
                "Effect": "Deny",
                "Action": list(PLAN_DENY),
                "Resource": [
                    f"arn:{names['partition']}:s3:::{crash_bucket}/*",
                    f"arn:{names['partition']}:secretsmanager:*:*:secret:*",
                ],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _sid(held: Mapping[str, Any]) -> str:
    """A statement id's tail from its condition keys: kms:ResourceAliases -> ResourceAliases."""
    return "".join(k.split(":")[-1] for keys in held.values() for k in keys)


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
