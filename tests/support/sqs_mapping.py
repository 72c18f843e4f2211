"""Lambda's SQS event source mapping with ReportBatchItemFailures, over moto's SQS server: it
receives a batch, invokes the function with it in Lambda's SQS event shape, and deletes the
messages that succeeded, by Lambda's documented rules (``succeeded``):
- the invocation failed (a function error: raised, timed out, init failed): the whole batch
  fails, whatever the payload says;
- the response is not JSON, or an itemIdentifier is null, empty, not a string, under another
  key, or not a messageId of the batch: the whole batch fails;
- no response, a null or empty ``batchItemFailures``: the whole batch succeeded;
- otherwise every message but those named succeeded.
A failed message becomes visible again at once (visibility timeout 0) and is received again;
SQS's redrive policy moves it to the dead-letter queue after maxReceiveCount receives."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pigeon_tools import moto_server


class Answer(Protocol):
    """What an invocation gave: the runtime's Outcome, or an in-process one."""

    @property
    def ok(self) -> bool: ...

    payload: bytes


BATCH_SIZE = 10


@dataclass
class EventSourceMapping:
    sqs: Any
    queue_url: str
    queue_arn: str
    dead_letter_url: str
    answers: list[Any] = field(default_factory=list)  # each invocation's, in order

    @classmethod
    def create(cls, endpoint: str, max_receive_count: int = 5) -> EventSourceMapping:
        sqs = moto_server.client("sqs", endpoint)
        name = f"pigeon-delivery-{uuid.uuid4().hex[:6]}"
        dead = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])
        policy = {
            "deadLetterTargetArn": dead_arn["Attributes"]["QueueArn"],
            "maxReceiveCount": str(max_receive_count),
        }
        url = sqs.create_queue(
            QueueName=name,
            Attributes={"VisibilityTimeout": "0", "RedrivePolicy": json.dumps(policy)},
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return cls(sqs, url, arn["Attributes"]["QueueArn"], dead)

    def send(self, body: str) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": moto_server.REGION,
        }

    def poll_once(self, invoke: Callable[[dict[str, Any]], Answer]) -> int:
        """One batch: received, invoked, the done messages deleted; how many were received."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=BATCH_SIZE,
            AttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            return 0
        outcome = invoke({"Records": [self._record(m) for m in messages]})
        self.answers.append(outcome)
        done = succeeded([m["MessageId"] for m in messages], outcome)
        for message in messages:
            if message["MessageId"] in done:
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        return len(messages)

    def drain(self, invoke: Callable[[dict[str, Any]], Answer], polls: int = 20) -> bool:
        """Poll until the queue gives nothing: True then; False if it still gave messages
        after `polls` batches (a message that never leaves)."""
        return any(not self.poll_once(invoke) for _ in range(polls))

    def dead_letters(self) -> list[str]:
        found: list[str] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=self.dead_letter_url, MaxNumberOfMessages=BATCH_SIZE, WaitTimeSeconds=0
            ).get("Messages", [])
            if not batch:
                return found
            for message in batch:
                found.append(message["Body"])
                self.sqs.delete_message(
                    QueueUrl=self.dead_letter_url, ReceiptHandle=message["ReceiptHandle"]
                )


def succeeded(message_ids: list[str], answer: Answer) -> set[str]:
    """The messages of the batch that Lambda deletes, by its rules for ReportBatchItemFailures
    (module docstring)."""
    everything, nothing = set(message_ids), set()
    if not answer.ok:
        return nothing
    if not answer.payload.strip():
        return everything
    try:
        response = json.loads(answer.payload)
    except ValueError:
        return nothing
    if response is None:
        return everything
    if not isinstance(response, dict):
        return nothing
    failures = response.get("batchItemFailures")
    if failures is None or failures == []:
        return everything
    if not isinstance(failures, list):
        return nothing
    failed = set()
    for failure in failures:
        item = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(item, str) or not item or item not in everything:
            return nothing
        failed.add(item)
    return everything - failed
