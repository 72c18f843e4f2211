"""Where Lambda sends the record of an asynchronous invocation it gave up on: the on-failure
destination, here an SQS queue (moto's on loopback, or any endpoint boto3 is pointed at with
AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL).

The record has Lambda's documented shape (docs.aws.amazon.com/lambda/latest/dg/
invocation-async-retain-records.html, "Example invocation record"):

    {"version": "1.0", "timestamp": "2019-11-14T18:16:05.568Z",
     "requestContext": {"requestId": …, "functionArn": "arn:…:function:NAME:$LATEST",
                        "condition": "RetriesExhausted" | "EventAgeExceeded",
                        "approximateInvokeCount": 3},
     "requestPayload": <the event>,
     "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                         "functionError": "Unhandled"},
     "responsePayload": <the last attempt's error JSON>}

An event that aged out before any attempt ran has no responseContext and no responsePayload.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from pigeon_tools.lambda_local.sandbox import Outcome

RETRIES_EXHAUSTED = "RetriesExhausted"
EVENT_AGE_EXCEEDED = "EventAgeExceeded"


class DestinationError(ValueError):
    """The destination cannot be used; the message says why."""


def _json_or_text(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", "replace")


def invocation_record(
    request_id: str,
    function_arn: str,
    condition: str,
    attempts: int,
    event: bytes,
    last: Outcome | None,
) -> dict[str, Any]:
    """Lambda's record of an event it gave up on, after `attempts` attempts (`last` the last
    one's outcome, None when the event never ran)."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": stamp,
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": _json_or_text(event),
    }
    if last is not None:
        context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if last.error:
            context["functionError"] = "Unhandled"
        record["responseContext"] = context
        record["responsePayload"] = _json_or_text(last.payload)
    return record


class SqsDestination:
    """A standard SQS queue, named by its URL or its ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)."""

    def __init__(self, target: str, region: str, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("sqs", region_name=self._region(target) or region)
        self.client, self.target = client, target
        try:
            self.url = self._url(target)
            self.client.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])
        except DestinationError:
            raise
        except Exception as error:  # botocore's ClientError, EndpointConnectionError, …
            raise DestinationError(f"the on-failure destination {target}: {error}") from error
        if self.url.endswith(".fifo"):
            raise DestinationError(f"{target} is a FIFO queue; Lambda takes a standard queue only")

    @staticmethod
    def _region(target: str) -> str | None:
        parts = target.split(":")
        return parts[3] if target.startswith("arn:") and len(parts) == 6 else None

    def _url(self, target: str) -> str:
        if target.startswith(("http://", "https://")):
            return target
        parts = target.split(":")
        if len(parts) != 6 or parts[:3] != ["arn", "aws", "sqs"] or not parts[5]:
            raise DestinationError(
                f"{target!r} is neither an SQS queue URL nor arn:aws:sqs:REGION:ACCOUNT:NAME"
            )
        found = self.client.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])
        return str(found["QueueUrl"])

    def send(self, record: dict[str, Any]) -> None:
        self.client.send_message(QueueUrl=self.url, MessageBody=json.dumps(record))
