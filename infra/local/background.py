"""What AWS does on its own that moto does not: fire the template's schedules, invoke functions asynchronously as
Lambda does (retries, maximum event age, on-failure destination), and feed the table's stream and the queues to the
functions subscribed to them (moto stores all of these, and triggers nothing)."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from croniter import croniter

from infra.local.runtime import FunctionError, FunctionPool
from infra.local.template import AsyncInvokeConfig, Schedule, aws_cron_to_croniter

log = logging.getLogger("local.background")

# Lambda's waits before the retries of a failed asynchronous invocation: 1 minute before the first retry, 2 minutes
# before the second (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
AWS_ASYNC_RETRY_WAITS = (60.0, 120.0)
# Locally the waits are shortened by this factor (3 s and 6 s), so a retry shows within a session or a test, as
# QueuePoller's `retry_seconds` shortens SQS's visibility timeout. The event's age still counts the full AWS waits.
LOCAL_TIME_SCALE = 0.05


class Invocable(Protocol):
    """What runs one invocation synchronously: a `FunctionPool` (or a test's stand-in)."""

    def invoke(self, event: dict[str, Any], timeout: float | None = None) -> Any: ...


class InvocationRefused(Exception):
    """Lambda did not accept an asynchronous invocation (in AWS: throttled, no such function, no permission; here:
    the local stack is stopping). The caller still holds the event: EventBridge Scheduler retries per its own
    RetryPolicy, then sends it to the schedule's dead-letter queue."""


@dataclass(frozen=True)
class AsyncResult:
    """How an accepted asynchronous invocation ended: `condition` is "Success", "RetriesExhausted" or
    "EventAgeExceeded" (Lambda's conditions), or "Stopped" (the local stack stopped first: the event goes with it).
    `record` is the on-failure invocation record (also made when the function has no destination, then dropped)."""

    condition: str
    attempts: int
    record: dict[str, Any] | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _iso_millis(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def stream_batch_failure(
    records: list[dict[str, Any]], condition: str, *, stream_arn: str, shard_id: str, function_arn: str, at: datetime
) -> dict[str, Any]:
    """What Lambda sends a stream event source's on-failure destination: the batch's position, NOT its records (they
    stay in the stream, 24 h). Whatever must outlive that is parked by the function itself (dead_letters.py)."""

    def arrival(record: dict[str, Any]) -> str:
        created = record["dynamodb"].get("ApproximateCreationDateTime")
        when = created if isinstance(created, datetime) else datetime.fromtimestamp(float(created or 0), UTC)
        return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return {
        "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": function_arn, "condition": condition,
                           "approximateInvokeCount": 1},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": _iso_millis(at),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": arrival(records[0]),
            "approximateArrivalOfLastRecord": arrival(records[-1]),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }  # fmt: skip


class AsyncInvoker:
    """Lambda's asynchronous invocation (InvocationType Event) of one function, as EventBridge Scheduler (and S3,
    SNS, EventBridge rules...) invoke: `submit` accepts the event at once (Lambda answers 202) and a separate thread
    runs it. A function error (the handler raised, the runtime failed, the run timed out) is retried up to the
    function's EventInvokeConfig `MaximumRetryAttempts`, after Lambda's waits (shortened locally by `time_scale`);
    an event older than `MaximumEventAgeInSeconds` is not run again. An event that failed for good is sent to the
    on-failure destination as Lambda's invocation record (`on_failure`), or logged and dropped without one.

    `clock` gives the time (injectable: tests use a fake one) and `sleep(seconds)` waits, returning True when the
    wait was cut short because the invoker is stopping (the default waits on the invoker's stop event)."""

    def __init__(
        self,
        function: Invocable,
        config: AsyncInvokeConfig,
        *,
        function_arn: str,
        on_failure: Callable[[dict[str, Any]], None] | None,
        time_scale: float = LOCAL_TIME_SCALE,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], bool] | None = None,
    ) -> None:
        self._function = function
        self._config = config
        self._function_arn = function_arn
        self._on_failure = on_failure  # callable(invocation record)
        self._time_scale = time_scale
        self._clock = clock
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait

    def stop(self) -> None:
        """Accepts no more events and cuts the retry waits short: events still waiting are dropped (logged)."""
        self._stop.set()

    def submit(self, event: dict[str, Any]) -> Future[AsyncResult]:
        """Hands the event over, as `Invoke` with InvocationType Event: returns once accepted, with a future of how
        its processing ended; raises `InvocationRefused` when not accepted."""
        if self._stop.is_set():
            raise InvocationRefused(f"{self._function_arn}: the local stack is stopping")
        request_id, accepted_at = str(uuid.uuid4()), self._clock()
        outcome: Future[AsyncResult] = Future()

        def run() -> None:
            try:
                outcome.set_result(self.process(event, request_id=request_id, accepted_at=accepted_at))
            except BaseException as error:  # a bug here must not vanish with the thread
                log.exception("asynchronous invocation of %s failed", self._function_arn)
                outcome.set_exception(error)

        threading.Thread(target=run, name="async-invoke", daemon=True).start()
        return outcome

    def process(self, event: dict[str, Any], *, request_id: str, accepted_at: datetime) -> AsyncResult:
        """Runs one accepted event to its end: the first attempt, the retries, then the on-failure record."""
        skipped = 0.0  # seconds of AWS's waits not waited locally: the event is that much older than the clock says
        attempts, error = 0, None
        while True:
            age = (self._clock() - accepted_at).total_seconds() + skipped
            if age > self._config.max_event_age_seconds:
                return self._failed("EventAgeExceeded", event, request_id, attempts, error)
            attempts += 1
            try:
                self._function.invoke(event)
                return AsyncResult("Success", attempts)
            except FunctionError as failure:  # FunctionTimeout included: Lambda counts a timeout as a function error
                if failure.type == "Runtime.Stopping":
                    log.warning("%s: the local stack is stopping, event dropped: %s", self._function_arn, event)
                    return AsyncResult("Stopped", attempts - 1)
                error = {"errorMessage": failure.message, "errorType": failure.type}
            except Exception as failure:  # the local runtime itself failed: answered as Lambda answers a crash
                error = {"errorMessage": str(failure), "errorType": type(failure).__name__}
            log.warning("%s failed (attempt %d): %s", self._function_arn, attempts, error["errorMessage"])
            if attempts > self._config.max_retries:
                return self._failed("RetriesExhausted", event, request_id, attempts, error)
            wait = AWS_ASYNC_RETRY_WAITS[min(attempts, len(AWS_ASYNC_RETRY_WAITS)) - 1]
            if self._sleep(wait * self._time_scale):
                log.warning("%s: the local stack is stopping, retry dropped: %s", self._function_arn, event)
                return AsyncResult("Stopped", attempts)
            skipped += wait * (1 - self._time_scale)

    def _failed(
        self, condition: str, event: dict[str, Any], request_id: str, attempts: int, error: dict[str, Any] | None
    ) -> AsyncResult:
        record = self.invocation_record(condition, event, request_id, attempts, error)
        if self._on_failure is None:
            message = "%s: %s after %d attempt(s) and no on-failure destination: event dropped: %s"
            log.error(message, self._function_arn, condition, attempts, event)
            return AsyncResult(condition, attempts, record)
        try:
            self._on_failure(record)
        except Exception:  # AWS counts a DestinationDeliveryFailures metric; the record is lost
            log.exception("%s: sending the on-failure record failed: %s", self._function_arn, record)
        return AsyncResult(condition, attempts, record)

    def invocation_record(
        self, condition: str, event: dict[str, Any], request_id: str, attempts: int, error: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Lambda's invocation record, as it sends it to an on-failure destination (an SQS message's body)."""
        record: dict[str, Any] = {
            "version": "1.0",
            "timestamp": _iso_millis(self._clock()),
            "requestContext": {
                "requestId": request_id,
                "functionArn": f"{self._function_arn}:$LATEST",
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
        }
        if error is not None:  # the last attempt's error (none when the event aged out before any attempt)
            record["responseContext"]["functionError"] = "Unhandled"  # Python's handlers raise: always "Unhandled"
            record["responsePayload"] = error
        return record


def scheduled_time_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def schedule_input(schedule: Schedule, at: datetime) -> dict[str, Any]:
    """The target's event: the schedule's Input with `<aws.scheduler.scheduled-time>` filled in, as Scheduler does."""
    text = json.dumps(schedule.input).replace("<aws.scheduler.scheduled-time>", scheduled_time_text(at))
    loaded: dict[str, Any] = json.loads(text)
    return loaded


class Scheduler:
    """EventBridge Scheduler: fires each schedule at its cron time in its timezone and hands the event to its Lambda
    target asynchronously (an `AsyncInvoker`). Once Lambda has accepted the event, Scheduler is done with it: a
    failing run is retried by Lambda per the function's EventInvokeConfig, then goes to its on-failure destination.
    The schedule's RetryPolicy and dead-letter queue are only for a hand-over Lambda refused: Scheduler retries it
    (after `retry_seconds`, shortened locally; AWS backs off exponentially) up to `max_retries` times, then sends
    the event to `dead_letter`."""

    def __init__(
        self,
        schedules: list[tuple[Schedule, AsyncInvoker]],
        dead_letter: Any,
        *,
        retry_seconds: float = 1.0,
    ) -> None:
        self._schedules = schedules
        self._dead_letter = dead_letter  # callable(schedule, event, error)
        self._retry_seconds = retry_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def next_runs(self, after: datetime) -> list[tuple[datetime, Schedule, AsyncInvoker]]:
        runs = []
        for schedule, target in self._schedules:
            zone = ZoneInfo(schedule.timezone)
            iterator = croniter(aws_cron_to_croniter(schedule.expression), after.astimezone(zone))
            runs.append((iterator.get_next(datetime), schedule, target))
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
            for run_at, schedule, target in runs:
                if run_at == at:
                    threading.Thread(target=self.fire, args=(schedule, target, run_at), daemon=True).start()
            now = at

    def fire(self, schedule: Schedule, target: AsyncInvoker, at: datetime) -> Future[AsyncResult] | None:
        """Hands the schedule's event for `at` to its target. Returns the accepted invocation's future, or None when
        every hand-over was refused and the event went to the dead-letter queue."""
        event = schedule_input(schedule, at)
        refused: InvocationRefused | None = None
        for attempt in range(schedule.max_retries + 1):
            if attempt:
                self._stop.wait(self._retry_seconds)
            try:
                return target.submit(event)
            except InvocationRefused as error:
                log.warning("%s: Lambda refused the event (attempt %d): %s", schedule.name, attempt + 1, error)
                refused = error
        assert refused is not None
        try:
            self._dead_letter(schedule, event, refused)
        except Exception:  # the embedded AWS is stopping with us, or a fault: the event is lost, say so
            log.exception("%s: dead-lettering %s failed", schedule.name, event)
        return None


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


def matches_pattern(pattern: Any, event: Any) -> bool:
    """Lambda's event filtering (EventBridge patterns), the part the template uses: a pattern is a dict of keys whose
    values are nested patterns or lists of allowed values; every key must match, a missing key never does."""
    if isinstance(pattern, list):
        return event in pattern
    if not isinstance(pattern, dict) or not isinstance(event, dict):
        return False
    return all(name in event and matches_pattern(sub, event[name]) for name, sub in pattern.items())


def record_passes(filters: list[Any], record: dict[str, Any]) -> bool:
    """No filter: every record; else a record matching any filter (Lambda drops the others, reading past them)."""
    return not filters or any(matches_pattern(pattern, record) for pattern in filters)


class StreamPoller(_PollingThread):
    """Reads the table's stream and invokes the subscribed function with Lambda's DynamoDB event, batch by batch.
    Records its FilterCriteria do not match are skipped, as Lambda drops them. Reported item failures are retried
    from the first failure (as Lambda does), up to the event source's MaximumRetryAttempts; then the records go to
    its on-failure destination."""

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
        filters: list[Any] | None = None,
    ) -> None:
        self._streams = streams
        self._stream_arn = stream_arn
        self._filters = filters or []  # the event source's FilterCriteria patterns, parsed
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
                wanted = [record for record in records if record_passes(self._filters, record)]
                try:
                    if wanted:
                        self._deliver([{**record, "eventSourceARN": self._stream_arn} for record in wanted])
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
        self.shard_id: str = shard["ShardId"]
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
