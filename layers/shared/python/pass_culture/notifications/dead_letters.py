"""Stream records whose emails could not be sent, kept whole in the notifications DLQ.

The table's stream keeps a record 24 hours, and Lambda's on-failure destination for a stream receives only the
batch's position (shard, sequence numbers), not its records: a failure noticed on Monday could not be replayed.
So the function parks a record that failed (after botocore's own retries of SES and DynamoDB) in the DLQ itself,
with its images, and goes on with the batch. A redrive (docs/operations.md) moves the parked messages to
NotificationsRedriveQueue, which the same function reads: each email is sent once, since every sent email is
recorded (NOTIFIED#…) before the record is considered done.

The reason kept is the error's kind, never its text: SES error texts list recipients.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from botocore.exceptions import ClientError

PARKED = "parkedStreamRecord"


class DeadLetters(Protocol):
    def park(self, record: Mapping[str, Any], error: BaseException, at: datetime) -> None: ...


def error_kind(error: BaseException) -> str:
    """`ClientError MessageRejected`, `TimeoutError`: enough to triage, nothing personal."""
    if isinstance(error, ClientError):
        return f"ClientError {error.response.get('Error', {}).get('Code', '')}".strip()
    return type(error).__name__


def parked_message(record: Mapping[str, Any], error: BaseException, at: datetime) -> str:
    return json.dumps({PARKED: dict(record), "reason": error_kind(error), "parkedAt": at.isoformat()})


def parked_record(body: str) -> dict[str, Any]:
    """The stream record a parked message holds (raises ValueError on anything else)."""
    message = json.loads(body)
    if not isinstance(message, dict) or not isinstance(message.get(PARKED), dict):
        raise ValueError("not a parked stream record")
    return dict(message[PARKED])


class SqsDeadLetters:
    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def park(self, record: Mapping[str, Any], error: BaseException, at: datetime) -> None:
        self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=parked_message(record, error, at))
