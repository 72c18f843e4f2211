"""delivery = "sqs": the bucket notification goes to an encrypted queue that only this bucket
may send to, read by the function with partial batch failures, with a dead-letter queue and
alarms on the oldest message and on the dead letters."""

from __future__ import annotations

from pigeon_tools.terraform import hcl

DELIVERY = hcl.load(hcl.TERRAFORM / "modules" / "sqs_delivery")
PIGEON = hcl.load(hcl.TERRAFORM / "modules" / "pigeon")


def test_both_queues_are_encrypted_and_the_dead_letter_queue_takes_the_failures():
    queues = DELIVERY.resources("aws_sqs_queue")
    assert set(queues) == {"this", "dead_letter"}
    for queue in queues.values():
        assert queue["sqs_managed_sse_enabled"] is True
        assert queue["message_retention_seconds"] == 1209600  # 14 days, SQS's most
    redrive = queues["this"]["redrive_policy"]
    assert "aws_sqs_queue.dead_letter.arn" in redrive
    assert "var.max_receive_count" in redrive


def test_only_this_bucket_of_this_account_may_send_to_the_queue():
    [statement] = DELIVERY.data("aws_iam_policy_document")["queue"]["statement"]
    assert statement["actions"] == ["sqs:SendMessage"]
    assert statement["resources"] == ["${aws_sqs_queue.this.arn}"]
    assert statement["principals"][0]["identifiers"] == ["s3.amazonaws.com"]
    conditions = {c["variable"]: c["values"] for c in statement["condition"]}
    assert conditions == {
        "aws:SourceArn": ["${local.bucket_arn}"],
        "aws:SourceAccount": ["${var.bucket_account_id}"],
    }


def test_the_function_reads_the_queue_reporting_partial_batch_failures():
    mapping = DELIVERY.resources("aws_lambda_event_source_mapping")["this"]
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["event_source_arn"] == "${aws_sqs_queue.this.arn}"
    assert mapping["batch_size"] == "${var.batch_size}"
    assert (
        mapping["maximum_batching_window_in_seconds"] == "${var.maximum_batching_window_in_seconds}"
    )
    assert mapping["enabled"] == "${var.traffic_enabled}"  # the traffic gate


def test_alarms_watch_the_oldest_message_and_the_dead_letters():
    alarms = DELIVERY.resources("aws_cloudwatch_metric_alarm")
    assert alarms["oldest_message"]["metric_name"] == "ApproximateAgeOfOldestMessage"
    assert alarms["oldest_message"]["dimensions"] == {"QueueName": "${aws_sqs_queue.this.name}"}
    assert alarms["dead_letter"]["metric_name"] == "ApproximateNumberOfMessagesVisible"
    assert alarms["dead_letter"]["dimensions"] == {"QueueName": "${aws_sqs_queue.dead_letter.name}"}
    for alarm in alarms.values():
        assert alarm["alarm_actions"] == "${var.alarm_actions}"


def test_the_pigeon_module_wires_sqs_delivery_from_one_variable():
    variables = PIGEON.variables()
    assert variables["delivery"]["default"] == "direct"
    calls = PIGEON.module_calls()
    assert calls["sqs_delivery"]["count"] == '${var.delivery == "sqs" ? 1 : 0}'
    assert (
        calls["bucket_notification"]["queue_arn"]
        == "${try(module.sqs_delivery[0].queue_arn, null)}"
    )
    assert (
        calls["bucket_notification"]["destination"]
        == '${var.delivery == "sqs" ? "queue" : "function"}'
    )

    assert (
        calls["function"]["delivery_queue_arn"] == "${try(module.sqs_delivery[0].queue_arn, null)}"
    )
    assert calls["sqs_delivery"]["batch_size"] == "${var.sqs.batch_size}"
    assert (
        calls["sqs_delivery"]["maximum_batching_window_in_seconds"]
        == "${var.sqs.maximum_batching_window_in_seconds}"
    )
    assert calls["sqs_delivery"]["traffic_enabled"] == "${var.traffic_enabled}"
