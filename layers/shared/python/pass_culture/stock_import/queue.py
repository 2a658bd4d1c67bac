"""The stock import's queue: one message a venue to import (the daily job fans out; a worker that reaches its
deadline re-queues its venue, and the next worker resumes from the run's checkpoint)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel

SQS_BATCH = 10  # SendMessageBatch's limit
MAX_RECEIVES = 3  # template.yaml, StockImportQueue's RedrivePolicy maxReceiveCount: the third receive is the last


class ImportRequest(BaseModel):
    venue_id: str
    time: AwareDatetime  # the schedule's time: the run's "now"


class ImportQueue:
    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def send(self, venue_ids: Iterable[str], at: datetime) -> int:
        """Queues one import per venue, ten a call; raises if SQS refused any (Lambda then retries the job, as for
        any asynchronous invocation, and a venue queued twice resumes the same run)."""
        ids = list(venue_ids)
        for start in range(0, len(ids), SQS_BATCH):
            entries = [
                {"Id": str(n), "MessageBody": ImportRequest(venue_id=venue_id, time=at).model_dump_json()}
                for n, venue_id in enumerate(ids[start : start + SQS_BATCH])
            ]
            answer = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
            if answer.get("Failed"):
                raise RuntimeError(f"SQS refused {len(answer['Failed'])} import messages: {answer['Failed'][:3]}")
        return len(ids)


def parse_request(body: str) -> ImportRequest:
    return ImportRequest.model_validate(json.loads(body))


def build_import_queue() -> ImportQueue:
    from pass_culture import aws
    from pass_culture.settings import get_settings

    return ImportQueue(aws.client("sqs"), get_settings().stock_import_queue_url)
