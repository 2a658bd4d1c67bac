"""Redrive the dead-letter queues (docs/operations.md says when and how).

    python -m infra.ops.redrive queue --from <DLQ url> --to <queue url>
        moves every message back to the queue it came from (the stock import's, the daily jobs', the payouts'
        workers are idempotent: a chunk, a venue's import or a payout step run twice does its work once);
    python -m infra.ops.redrive notifications --dlq <NotificationsDLQ url> --to <NotificationsRedriveQueue url>
        moves the records the notifications function parked, and turns each batch position that Lambda's on-failure
        destination recorded into its records, read back from the stream while it still holds them (24 h);
        every email is then sent once (the function records each one it sends).

With `--stack NAME` instead of the URLs, they are looked up in the CloudFormation stack. Prints what it moved and
what it could not (a batch position whose records the stream no longer holds stays in the DLQ).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3

from pass_culture.notifications.dead_letters import PARKED, parked_message

Message = dict[str, Any]


class BatchExpired(Exception):
    """The stream no longer holds the records of a failed batch (they are kept 24 h)."""


def messages(sqs: Any, queue_url: str) -> Iterator[Message]:
    """Every message of the queue, once each (a message is hidden while it is being moved)."""
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=300,
                                    WaitTimeSeconds=1).get("Messages", [])  # fmt: skip
        if not batch:
            return
        yield from batch


def move(sqs: Any, source: str, destination: str, bodies: Callable[[Message], list[str]]) -> tuple[int, list[str]]:
    """Sends each source message's replacement bodies to `destination`, then deletes it from the source."""
    moved, kept = 0, []
    for message in messages(sqs, source):
        try:
            replacements = bodies(message)
        except BatchExpired as expired:
            kept.append(f"{message['MessageId']}: {expired}")
            continue
        for body in replacements:
            sqs.send_message(QueueUrl=destination, MessageBody=body)
        sqs.delete_message(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"])
        moved += len(replacements)
    return moved, kept


def stream_records(streams: Any, batch: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of a failed batch, from its first to its last sequence number."""
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=batch["streamArn"], ShardId=batch["shardId"], ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=batch["startSequenceNumber"],
        )["ShardIterator"]  # fmt: skip
    except streams.exceptions.TrimmedDataAccessException as error:
        raise BatchExpired(f"the stream no longer holds {batch['startSequenceNumber']}…") from error
    end, found = int(batch["endSequenceNumber"]), list[dict[str, Any]]()
    while iterator:
        answer = streams.get_records(ShardIterator=iterator, Limit=1000)
        for record in answer.get("Records", []):
            if int(record["dynamodb"]["SequenceNumber"]) > end:
                return found
            found.append(json.loads(json.dumps(record, default=_iso)))
        if not answer.get("Records") or (found and int(found[-1]["dynamodb"]["SequenceNumber"]) >= end):
            return found
        iterator = answer.get("NextShardIterator")
    return found


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()  # the stream event's ApproximateCreationDateTime: epoch seconds
    raise TypeError(type(value).__name__)


def notification_bodies(streams: Any, now: datetime) -> Callable[[Message], list[str]]:
    def bodies(message: Message) -> list[str]:
        content = json.loads(message["Body"])
        if PARKED in content:
            return [message["Body"]]
        batch = content.get("DDBStreamBatchInfo")
        if batch is None:
            raise BatchExpired("neither a parked record nor a stream batch position: left for a person to read")
        failure = RuntimeError(content.get("requestContext", {}).get("condition", "RetryAttemptsExhausted"))
        return [parked_message({**record, "eventSource": "aws:dynamodb", "eventSourceARN": batch["streamArn"]},
                               failure, now) for record in stream_records(streams, batch)]  # fmt: skip

    return bodies


def stack_queue(stack: str, logical_id: str) -> str:
    resource = boto3.client("cloudformation").describe_stack_resource(StackName=stack, LogicalResourceId=logical_id)
    return str(resource["StackResourceDetail"]["PhysicalResourceId"])  # an SQS queue's physical id is its URL


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.ops.redrive", description=__doc__.split("\n\n")[0])
    kinds = parser.add_subparsers(dest="kind", required=True)
    queue = kinds.add_parser("queue", help="move a DLQ's messages back to their queue")
    queue.add_argument("--from", dest="source", required=True)
    queue.add_argument("--to", dest="destination", required=True)
    notifications = kinds.add_parser("notifications", help="send the parked and failed notifications again")
    notifications.add_argument("--dlq")
    notifications.add_argument("--to", dest="destination")
    notifications.add_argument("--stack", help="the CloudFormation stack, instead of --dlq and --to")
    options = parser.parse_args(arguments)
    sqs = boto3.client("sqs")
    if options.kind == "queue":
        moved, kept = move(sqs, options.source, options.destination, lambda message: [message["Body"]])
    else:
        dlq = options.dlq or stack_queue(options.stack, "NotificationsDLQ")
        destination = options.destination or stack_queue(options.stack, "NotificationsRedriveQueue")
        moved, kept = move(
            sqs, dlq, destination, notification_bodies(boto3.client("dynamodbstreams"), datetime.now(UTC))
        )
    print(f"moved {moved} message(s)")
    for line in kept:
        print(f"left in the DLQ: {line}", file=sys.stderr)
    return 1 if kept else 0


if __name__ == "__main__":
    sys.exit(main())
