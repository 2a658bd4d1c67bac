"""The notifications' redrive (infra/ops/redrive.py) against the embedded AWS: Lambda's on-failure destination for a
stream holds the batch's position only, so the redrive reads the records back while the stream holds them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from infra.local.background import stream_batch_failure
from infra.local.embedded_aws import EmbeddedAws, Provisioned
from infra.ops import redrive
from pass_culture import dynamo

ACCOUNT = {"PK": "OFFERER#o1", "SK": "BANK_ACCOUNT", "entity": "BANK_ACCOUNT", "notifyEmail": "pro@example.org"}


@pytest.fixture(autouse=True)
def operator_environment(embedded: tuple[EmbeddedAws, Provisioned], monkeypatch: pytest.MonkeyPatch) -> None:
    """The tool's own boto3 clients reach the embedded AWS, as an operator's reach AWS."""
    for name, value in embedded[0].environment().items():
        monkeypatch.setenv(name, value)


def test_a_failed_batch_position_is_read_back_from_the_stream_into_parked_records(
    embedded: tuple[EmbeddedAws, Provisioned],
) -> None:
    aws, provisioned = embedded
    table = dynamo.Table(aws.client("dynamodb"), provisioned.ref("Table"))
    table.put({**ACCOUNT, "status": "PENDING"})
    status = dynamo.Expression("SET #s = :a", names={"#s": "status"}, values={":a": "ACCEPTED"})
    table.update(dynamo.key("OFFERER#o1", "BANK_ACCOUNT"), status)
    streams, stream = aws.client("dynamodbstreams"), provisioned.attribute("Table", "StreamArn")
    shard = streams.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    function = "arn:aws:lambda:eu-west-3:123456789012:function:notifications"
    failure = stream_batch_failure(records, "RetryAttemptsExhausted", stream_arn=stream, shard_id=shard,
                                   function_arn=function, at=datetime.now(UTC))  # fmt: skip
    assert "NewImage" not in json.dumps(failure)  # a position, as Lambda writes it, not the records
    sqs = aws.client("sqs")
    dlq, redrive_queue = provisioned.ref("NotificationsDLQ"), provisioned.ref("NotificationsRedriveQueue")
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps(failure))

    assert redrive.main(["notifications", "--dlq", dlq, "--to", redrive_queue]) == 0
    assert sqs.receive_message(QueueUrl=dlq).get("Messages", []) == []
    messages: list[Any] = sqs.receive_message(QueueUrl=redrive_queue, MaxNumberOfMessages=10)["Messages"]
    parked = [json.loads(m["Body"])["parkedStreamRecord"] for m in messages]
    assert [(p["eventName"], p["dynamodb"]["NewImage"]["status"]["S"]) for p in parked] == [
        ("INSERT", "PENDING"), ("MODIFY", "ACCEPTED")
    ]  # fmt: skip
    assert {p["eventSource"] for p in parked} == {"aws:dynamodb"}


def test_a_message_that_is_neither_is_left_for_a_person(embedded: tuple[EmbeddedAws, Provisioned]) -> None:
    aws, provisioned = embedded
    sqs, dlq = aws.client("sqs"), provisioned.ref("NotificationsDLQ")
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"something": "else"}))
    assert redrive.main(["notifications", "--dlq", dlq, "--to", provisioned.ref("NotificationsRedriveQueue")]) == 1
    counts = sqs.get_queue_attributes(
        QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert int(counts["ApproximateNumberOfMessages"]) + int(counts["ApproximateNumberOfMessagesNotVisible"]) == 1
    assert sqs.receive_message(QueueUrl=provisioned.ref("NotificationsRedriveQueue")).get("Messages") is None
