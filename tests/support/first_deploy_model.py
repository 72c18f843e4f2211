"""A model of terraform/environments as CONTRACTS.md (C <-> T) describes it, for the stand-in
terraform of the first-deploy walkthrough: what `plan` proposes for given variables and state,
and what `apply` does to the account (moto, on loopback).

- the broker secret (created without a value), the function, its log group and on-failure
  queue: created once;
- the bucket notification: Pigeon's entry on the bucket only while `traffic_enabled` (the
  traffic gate), on `s3:ObjectCreated:Put` under `v2/raw_crash/`;
- outputs: secret_arn, function_name, function_arn, failure_queue_url.

It is a model of the interface, not of the modules: the real root is planned in GitHub Actions.
"""

from __future__ import annotations

import os
from typing import Any

import boto3

PREFIX = "v2/raw_crash/"
EVENTS = ["s3:ObjectCreated:Put"]
SECRET = "module.pigeon.module.secrets.aws_secretsmanager_secret.broker"
FUNCTION = "module.pigeon.module.function.aws_lambda_function.this"
LOGS = "module.pigeon.module.function.aws_cloudwatch_log_group.this"
QUEUE = "module.pigeon.module.function.aws_sqs_queue.on_failure"
NOTIFICATION = "module.pigeon.module.bucket_notification.aws_s3_bucket_notification.this[0]"


def client(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region)  # type: ignore[call-overload]


def change(
    address: str, kind: str, actions: list[str], before: Any, after: Any, unknown: Any = None
) -> dict[str, Any]:
    return {
        "address": address,
        "mode": "managed",
        "type": kind,
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "after_unknown": unknown or {},
        },
    }


class Root:
    @staticmethod
    def plan(values: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        env, bucket = values["env"], values["bucket_name"]
        have = state.get("resources", {})
        changes = []

        def keep_or_create(
            address: str, kind: str, after: dict[str, Any], unknown: dict[str, Any]
        ) -> None:
            if address in have:
                changes.append(change(address, kind, ["no-op"], have[address], have[address]))
            else:
                changes.append(change(address, kind, ["create"], None, after, unknown))

        keep_or_create(
            SECRET, "aws_secretsmanager_secret", {"name": f"pigeon-{env}-broker"}, {"arn": True}
        )
        # The root's `function` object; null is unreserved, which the provider plans as -1.
        reserved = (values.get("function") or {}).get("reserved_concurrent_executions")
        reserved = -1 if reserved is None else reserved
        keep_or_create(
            FUNCTION,
            "aws_lambda_function",
            {
                "function_name": f"pigeon-{env}",
                "filename": f"{values['artifact_dir']}/pigeon.zip",
                "reserved_concurrent_executions": reserved,
                "architectures": [values.get("architecture") or "x86_64"],
            },
            {"arn": True},
        )
        keep_or_create(LOGS, "aws_cloudwatch_log_group", {"name": f"/aws/lambda/pigeon-{env}"}, {})
        keep_or_create(
            QUEUE, "aws_sqs_queue", {"name": f"pigeon-{env}-on-failure"}, {"url": True, "arn": True}
        )
        function_arn = (have.get(FUNCTION) or {}).get("arn")
        if values["traffic_enabled"]:
            entry = {
                "id": "pigeon",
                "lambda_function_arn": function_arn,
                "events": EVENTS,
                "filter_prefix": PREFIX,
                "filter_suffix": "",
            }
            after = {
                "bucket": bucket,
                "eventbridge": False,
                "lambda_function": [entry],
                "queue": [],
                "topic": [],
            }
            unknown = {} if function_arn else {"lambda_function": [{"lambda_function_arn": True}]}
            if NOTIFICATION in have:
                changes.append(
                    change(
                        NOTIFICATION,
                        "aws_s3_bucket_notification",
                        ["no-op"],
                        have[NOTIFICATION],
                        have[NOTIFICATION],
                    )
                )
            else:
                changes.append(
                    change(
                        NOTIFICATION, "aws_s3_bucket_notification", ["create"], None, after, unknown
                    )
                )
        elif NOTIFICATION in have:
            changes.append(
                change(
                    NOTIFICATION, "aws_s3_bucket_notification", ["delete"], have[NOTIFICATION], None
                )
            )
        outputs = {k: {"value": v["value"]} for k, v in state.get("outputs", {}).items()}
        return {
            "format_version": "1.2",
            "resource_changes": changes,
            "planned_values": {"outputs": outputs},
        }

    @staticmethod
    def apply(document: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
        region = document["variables"]["region"]["value"]
        account = document["variables"]["account_id"]["value"]
        have = state.setdefault("resources", {})
        for item in document["resource_changes"]:
            address, actions, after = (
                item["address"],
                item["change"]["actions"],
                item["change"]["after"],
            )
            if actions == ["delete"]:
                if item["type"] == "aws_s3_bucket_notification":
                    client("s3", region).put_bucket_notification_configuration(
                        Bucket=have[address]["bucket"], NotificationConfiguration={}
                    )
                have.pop(address, None)
                continue
            if actions != ["create"]:
                continue
            made = dict(after)
            if item["type"] == "aws_secretsmanager_secret":
                made["arn"] = client("secretsmanager", region).create_secret(Name=after["name"])[
                    "ARN"
                ]
            elif item["type"] == "aws_lambda_function":
                made["arn"] = f"arn:aws:lambda:{region}:{account}:function:{after['function_name']}"
            elif item["type"] == "aws_sqs_queue":
                sqs = client("sqs", region)
                made["url"] = sqs.create_queue(QueueName=after["name"])["QueueUrl"]
                made["arn"] = f"arn:aws:sqs:{region}:{account}:{after['name']}"
            elif item["type"] == "aws_s3_bucket_notification":
                function_arn = have[FUNCTION]["arn"]
                for entry in made["lambda_function"]:
                    entry["lambda_function_arn"] = entry["lambda_function_arn"] or function_arn
                client("s3", region).put_bucket_notification_configuration(
                    Bucket=after["bucket"],
                    NotificationConfiguration={
                        "LambdaFunctionConfigurations": [
                            {
                                "Id": e["id"],
                                "LambdaFunctionArn": e["lambda_function_arn"],
                                "Events": e["events"],
                                "Filter": {
                                    "Key": {
                                        "FilterRules": [
                                            {"Name": "prefix", "Value": e["filter_prefix"]}
                                        ]
                                    }
                                },
                            }
                            for e in made["lambda_function"]
                        ]
                    },
                )
            have[address] = made
        outputs = {
            "secret_arn": have[SECRET]["arn"],
            "function_name": have[FUNCTION]["function_name"],
            "function_arn": have[FUNCTION]["arn"],
            "failure_queue_url": have[QUEUE]["url"],
        }
        state["outputs"] = {
            k: {"value": v, "type": "string", "sensitive": False} for k, v in outputs.items()
        }
        return state


assert os.environ.get("AWS_ENDPOINT_URL"), "the model acts on moto only"
