"""What AWS does on its own that moto does not: fire the template's schedules, and feed the table's stream to the
functions subscribed to it (moto stores both, and triggers nothing)."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from infra.local.runtime import FunctionError, FunctionPool
from infra.local.template import Schedule, aws_cron_to_croniter

log = logging.getLogger("local.background")


def scheduled_time_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def schedule_input(schedule: Schedule, at: datetime) -> dict[str, Any]:
    """The target's event: the schedule's Input with `<aws.scheduler.scheduled-time>` filled in, as Scheduler does."""
    text = json.dumps(schedule.input).replace("<aws.scheduler.scheduled-time>", scheduled_time_text(at))
    loaded: dict[str, Any] = json.loads(text)
    return loaded


class Scheduler:
    """Fires each schedule at its cron time in its timezone; retries as its policy says, then dead-letters."""

    def __init__(self, schedules: list[tuple[Schedule, FunctionPool]], dead_letter: Any) -> None:
        self._schedules = schedules
        self._dead_letter = dead_letter  # callable(schedule, event, error)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def next_runs(self, after: datetime) -> list[tuple[datetime, Schedule, FunctionPool]]:
        runs = []
        for schedule, function in self._schedules:
            zone = ZoneInfo(schedule.timezone)
            iterator = croniter(aws_cron_to_croniter(schedule.expression), after.astimezone(zone))
            runs.append((iterator.get_next(datetime), schedule, function))
        return sorted(runs, key=lambda run: run[0])

    def _run(self) -> None:
        now = datetime.now(UTC)
        while not self._stop.is_set():
            runs = self.next_runs(now)
            if not runs:
                return
            at = runs[0][0]
            if self._stop.wait(max(0.0, (at - datetime.now(UTC)).total_seconds())):
                return
            for run_at, schedule, function in runs:
                if run_at == at:
                    threading.Thread(target=self.fire, args=(schedule, function, run_at), daemon=True).start()
            now = at

    def fire(self, schedule: Schedule, function: FunctionPool, at: datetime) -> None:
        event = schedule_input(schedule, at)
        for attempt in range(schedule.max_retries + 1):
            try:
                function.invoke(event)
                return
            except FunctionError as error:
                log.warning("%s failed (attempt %d): %s", schedule.name, attempt + 1, error)
                last_error = error
        self._dead_letter(schedule, event, last_error)


class _PollingThread:
    """A daemon thread that polls until stopped; `stop` waits up to `timeout` for the batch being delivered."""

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.delivered = 0

    def _run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        if self._thread.is_alive() and timeout > 0:
            self._thread.join(timeout=timeout)


class StreamPoller(_PollingThread):
    """Reads the table's stream and invokes the subscribed function with Lambda's DynamoDB event, batch by batch.
    Reported item failures are retried from the first failure (as Lambda does), up to the event source's
    MaximumRetryAttempts; then the records go to its on-failure destination."""

    def __init__(
        self,
        streams: Any,
        stream_arn: str,
        function: FunctionPool,
        *,
        max_retries: int,
        batch_size: int,
        on_failure: Any,
        interval: float = 0.1,
    ) -> None:
        self._streams = streams
        self._stream_arn = stream_arn
        self._function = function
        self._max_retries = max_retries
        self._batch_size = batch_size
        self._on_failure = on_failure  # callable(records, reason)
        self._interval = interval
        super().__init__("stream-poller")

    def _run(self) -> None:
        last_sequence: str | None = None
        while not self._stop.is_set():
            try:
                records = self._read(last_sequence)
            except Exception:  # the embedded AWS is stopping, or a passing fault: try again
                if self._stop.is_set():
                    return
                log.exception("reading the stream failed")
                self._stop.wait(1)
                continue
            if records:
                try:
                    self._deliver([{**record, "eventSourceARN": self._stream_arn} for record in records])
                except Exception:  # dead-lettering failed: the embedded AWS is stopping with us, or a fault
                    if self._stop.is_set():
                        return
                    log.exception("dead-lettering stream records failed")
                last_sequence = records[-1]["dynamodb"]["SequenceNumber"]
            else:
                self._stop.wait(self._interval)

    def _read(self, after: str | None) -> list[dict[str, Any]]:
        # A fresh iterator from the last sequence number each time, rather than NextShardIterator: moto restores its
        # tables from a deep copy when a transaction fails, and an old iterator would keep reading the old shard.
        shard = self._streams.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]["Shards"][0]
        position = {"ShardIteratorType": "TRIM_HORIZON"}
        if after is not None:
            position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
        iterator = self._streams.get_shard_iterator(StreamArn=self._stream_arn, ShardId=shard["ShardId"], **position)
        answer = self._streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=self._batch_size)
        records: list[dict[str, Any]] = answer.get("Records", [])
        return records

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        for _attempt in range(self._max_retries + 1):
            try:
                answer = self._function.invoke({"Records": records}) or {}
            except Exception as error:  # the function failed as a whole: the batch is retried
                if isinstance(error, FunctionError) and error.type == "Runtime.Stopping":
                    return  # the stack is stopping: the data lives in memory and goes with it
                log.warning("stream batch failed: %s", error)
                continue
            failures = [f["itemIdentifier"] for f in answer.get("batchItemFailures", [])]
            if not failures:
                self.delivered += len(records)
                return
            sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
            first = min(sequence_numbers.index(f) for f in failures if f in sequence_numbers)
            self.delivered += first
            records = records[first:]
        self._on_failure(records, "retries exhausted")


class QueuePoller(_PollingThread):
    """Lambda's SQS event source mapping: receives a batch, invokes the function with Lambda's SQS event, deletes
    what succeeded. With `ReportBatchItemFailures`, the messages the function names stay in the queue; a function
    error leaves the whole batch. A message that stays comes back when its visibility timeout ends, and the queue's
    redrive policy moves it to its DLQ after `maxReceiveCount` receives, as SQS does.

    A received message stays hidden for the queue's own VisibilityTimeout while the function runs (as in AWS: a
    long run is never delivered twice). Only the wait before a retry is shortened: a failed message is made visible
    again after `retry_seconds` (a few seconds, so a retry shows within a test) instead of when its timeout ends."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        function: FunctionPool,
        *,
        batch_size: int,
        retry_seconds: int = 3,
        interval: float = 0.2,
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._queue_arn = queue_arn
        self._function = function
        self._batch_size = max(1, min(batch_size, 10))
        self._retry_seconds = retry_seconds
        self._interval = interval
        super().__init__("queue-poller")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._sqs.receive_message(
                    QueueUrl=self._queue_url,
                    MaxNumberOfMessages=self._batch_size,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
            except Exception:  # the embedded AWS is stopping, or a passing fault: try again
                if self._stop.is_set():
                    return
                log.exception("receiving from %s failed", self._queue_url)
                self._stop.wait(1)
                continue
            if not messages:
                self._stop.wait(self._interval)
                continue
            self._deliver(messages)

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        records = [sqs_record(message, self._queue_arn) for message in messages]
        try:
            answer = self._function.invoke({"Records": records}) or {}
        except Exception as error:  # the function failed as a whole: every message comes back
            if isinstance(error, FunctionError) and error.type == "Runtime.Stopping":
                return
            log.warning("queue batch failed: %s", error)
            self._retry_soon(messages)
            return
        failed = {failure["itemIdentifier"] for failure in answer.get("batchItemFailures", [])}
        self._retry_soon([m for m in messages if m["MessageId"] in failed])
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            entries = [
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done[start : start + 10])
            ]
            self._sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=entries)
        self.delivered += len(done)

    def _retry_soon(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            with contextlib.suppress(Exception):  # gone meanwhile: nothing to retry
                self._sqs.change_message_visibility(
                    QueueUrl=self._queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self._retry_seconds,
                )


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """One record of Lambda's SQS event, as the event source mapping builds it from a received message."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3] if queue_arn.count(":") >= 5 else "eu-west-3",
    }
