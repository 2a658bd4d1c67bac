"""Where a payout batch sends its work and its files: small ports, with their AWS adapters (SQS, S3)."""

from __future__ import annotations

from typing import Any, Protocol

from pass_culture.payouts.models import PayoutTask


class TaskQueue(Protocol):
    def send(self, tasks: list[PayoutTask]) -> None: ...


class FileStore(Protocol):
    def put_once(self, key: str, body: bytes, content_type: str) -> bool:
        """Writes the file unless it exists; answers whether it wrote it."""
        ...


class SqsTaskQueue:
    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def send(self, tasks: list[PayoutTask]) -> None:
        """SendMessageBatch of 10; an entry SQS refuses raises, so the step is retried (a task sent twice is
        harmless: every step checks its state first)."""
        for start in range(0, len(tasks), 10):
            entries = [
                {"Id": str(n), "MessageBody": task.model_dump_json()}
                for n, task in enumerate(tasks[start : start + 10])
            ]
            answer = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
            if answer.get("Failed"):
                raise RuntimeError(f"SQS refused payout tasks: {answer['Failed']}")


class S3FileStore:
    """PutObject with `If-None-Match: *` (S3 conditional writes): a file of a batch is written once; a resumed batch
    builds the same bytes and S3 refuses the second write (412), which is not an error here."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    def put_once(self, key: str, body: bytes, content_type: str) -> bool:
        try:
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type, IfNoneMatch="*")
        except self._s3.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise
        return True
