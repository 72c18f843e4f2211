"""The IAM evaluator the role tests use (support.iam_eval): IAM's documented Allow/Deny and
wildcard rules, and moto's evaluator's verdict wherever moto's is faithful (Action, Resource)."""

from __future__ import annotations

import itertools
import json

import pytest
from moto.iam.access_control import IAMPolicy, PermissionResult

from support.iam_eval import decide

FUNCTION = "arn:aws:lambda:us-west-2:123456789012:function:"
DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["lambda:GetFunction", "s3:List*"],
            "Resource": [f"{FUNCTION}pigeon-prod", f"{FUNCTION}pigeon-prod:*", "arn:aws:s3:::b?"],
        },
        {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"},
        {"Effect": "Deny", "Action": "lambda:GetFunction", "Resource": f"{FUNCTION}*:secret"},
    ],
}


@pytest.mark.parametrize(
    ("action", "resource", "verdict"),
    [
        ("lambda:GetFunction", f"{FUNCTION}pigeon-prod", "Allow"),
        ("Lambda:getfunction", f"{FUNCTION}pigeon-prod", "Allow"),  # actions: any case
        ("lambda:GetFunction", f"{FUNCTION}PIGEON-PROD", "NoAllow"),  # resources: exact case
        ("lambda:GetFunction", f"{FUNCTION}pigeon-prod:live", "Allow"),
        ("lambda:GetFunction", f"{FUNCTION}pigeon-production", "NoAllow"),
        ("lambda:GetFunction", f"{FUNCTION}billing", "NoAllow"),
        ("lambda:GetFunction", f"{FUNCTION}pigeon-prod:secret", "Deny"),
        ("lambda:GetFunctionConfiguration", f"{FUNCTION}pigeon-prod", "NoAllow"),
        ("s3:ListBucket", "arn:aws:s3:::b1", "Allow"),
        ("s3:ListBucket", "arn:aws:s3:::b12", "NoAllow"),  # ? is one character
        ("s3:ListBucket", "arn:aws:s3:::bx.", "NoAllow"),
        ("sts:GetCallerIdentity", "*", "Allow"),
    ],
)
def test_actions_resources_and_an_explicit_deny(action, resource, verdict):
    assert decide(DOCUMENT, action, resource) == verdict


def test_it_agrees_with_moto_on_actions_and_resources():
    """moto reads a pattern as a regular expression with `*` made `.*`: no `?` here."""
    document = json.loads(json.dumps(DOCUMENT).replace("b?", "b*"))
    actions = ["lambda:GetFunction", "lambda:GetFunctionConfiguration", "s3:ListBucket"]
    actions += ["sts:GetCallerIdentity", "s3:ListAllMyBuckets"]
    resources = [
        f"{FUNCTION}{n}" for n in ("pigeon-prod", "pigeon-prod:live", "billing", "x:secret")
    ]
    resources += ["arn:aws:s3:::b1", "arn:aws:s3:::c1", "*"]
    moto = IAMPolicy(json.dumps(document))
    names = {PermissionResult.PERMITTED: "Allow", PermissionResult.DENIED: "Deny"}
    for action, resource in itertools.product(actions, resources):
        theirs = names.get(moto.is_action_permitted(action, resource), "NoAllow")
        assert decide(document, action, resource) == theirs, (action, resource)


KEY = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BY_ALIAS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "kms:DescribeKey",
            "Resource": "arn:aws:kms:us-west-2:123456789012:key/*",
            "Condition": {"ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/pigeon-prod/*"}},
        },
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        },
    ],
}


@pytest.mark.parametrize(
    ("action", "context", "verdict"),
    [
        ("kms:DescribeKey", {"kms:ResourceAliases": ["alias/pigeon-prod/rabbitmq"]}, "Allow"),
        (
            "kms:DescribeKey",
            {"kms:ResourceAliases": ["alias/other", "alias/pigeon-prod/x"]},
            "Allow",
        ),
        ("kms:DescribeKey", {"kms:ResourceAliases": ["alias/billing"]}, "NoAllow"),
        ("kms:DescribeKey", {}, "NoAllow"),  # a key without an alias: the key is absent
        ("iam:PassRole", {"iam:PassedToService": "lambda.amazonaws.com"}, "Allow"),
        ("iam:PassRole", {"iam:PassedToService": "ec2.amazonaws.com"}, "NoAllow"),
        ("iam:PassRole", {}, "NoAllow"),
    ],
)
def test_conditions_and_a_missing_key(action, context, verdict):
    assert decide(BY_ALIAS, action, KEY, context) == verdict


def test_moto_would_let_a_key_of_another_team_through():
    """Why the role tests use this evaluator: moto skips ForAnyValue:StringLike."""
    moto = IAMPolicy(json.dumps(BY_ALIAS))
    other = {"kms:ResourceAliases": "alias/billing"}
    assert moto.is_action_permitted("kms:DescribeKey", KEY, None, other) == (
        PermissionResult.PERMITTED
    )
    assert decide(BY_ALIAS, "kms:DescribeKey", KEY, {"kms:ResourceAliases": ["alias/billing"]}) == (
        "NoAllow"
    )


def test_an_unknown_operator_fails_loudly():
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
            }
        ]
    }
    with pytest.raises(ValueError, match="NumericLessThan"):
        decide(document, "s3:ListBucket", "arn:aws:s3:::b", {"aws:MultiFactorAuthAge": "1"})
