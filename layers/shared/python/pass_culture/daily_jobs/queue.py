"""The daily jobs' queue to their worker: one message a chunk of candidates (`models.Chunk`)."""

from __future__ import annotations

from typing import Any

from pass_culture.daily_jobs.models import Chunk

SQS_MESSAGE_LIMIT = 262_144  # bytes: SQS refuses a larger message


class SqsChunkQueue:
    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def send(self, chunk: Chunk) -> None:
        body = chunk.model_dump_json()
        if len(body.encode()) > SQS_MESSAGE_LIMIT:
            raise ValueError(f"chunk {chunk.chunk_id} is {len(body.encode())} bytes: above SQS's limit")
        self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=body)


def parse_chunk(body: str) -> Chunk:
    return Chunk.model_validate_json(body)
