"""What the local stack does that moto does not: the stream poller (the outbox's trigger) and the scheduler."""

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from infra.local.background import Scheduler, StreamPoller, schedule_input
from infra.local.embedded_aws import EmbeddedAws, provision
from infra.local.runtime import FunctionError
from infra.local.template import Schedule, functions, load_template
from pass_culture import dynamo


@pytest.fixture
def moto_stack() -> Iterator[Any]:
    """The embedded AWS (moto's server, as `make run` runs it): in-process moto does not serve DynamoDB Streams."""
    aws = EmbeddedAws()
    aws.start()
    provisioned = provision(aws, load_template())
    provisioned.clients = aws  # type: ignore[attr-defined]
    yield provisioned
    aws.stop()


class RecordingFunction:
    """Stands in for a function process: records the events, fails as told."""

    def __init__(self, fail_first: int = 0, failing_keys: tuple[str, ...] = ()) -> None:
        self.events: list[dict[str, Any]] = []
        self._fail_first = fail_first
        self._failing_keys = failing_keys
        self.called = threading.Event()

    def invoke(self, event: dict[str, Any], timeout: float | None = None) -> Any:
        self.events.append(event)
        self.called.set()
        if len(self.events) <= self._fail_first:
            raise FunctionError({"type": "RuntimeError", "message": "boom"})
        failures = [
            {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
            for r in event.get("Records", [])
            if r["dynamodb"]["Keys"]["PK"]["S"] in self._failing_keys
        ]
        return {"batchItemFailures": failures}


def poll_once(moto_stack: Any, function: RecordingFunction, max_retries: int = 2) -> list[Any]:
    dead: list[Any] = []
    poller = StreamPoller(
        moto_stack.clients.client("dynamodbstreams"),
        moto_stack.attribute("Table", "StreamArn"),
        function,  # type: ignore[arg-type]
        max_retries=max_retries,
        batch_size=50,
        on_failure=lambda records, reason: dead.append((records, reason)),
    )
    poller.start()
    assert function.called.wait(10)
    poller.stop()
    return dead


def write(moto_stack: Any, *pks: str) -> None:
    table = dynamo.Table(moto_stack.clients.client("dynamodb"), moto_stack.ref("Table"))
    for pk in pks:
        table.put({**dynamo.key(pk, "X"), "status": "CONFIRMED"})


def test_committed_changes_reach_the_function_as_lambda_stream_events(moto_stack: Any) -> None:
    write(moto_stack, "BOOKING#1", "BOOKING#2")
    function = RecordingFunction()
    assert poll_once(moto_stack, function) == []
    records = function.events[0]["Records"]
    assert [r["dynamodb"]["Keys"]["PK"]["S"] for r in records] == ["BOOKING#1", "BOOKING#2"]
    assert records[0]["eventName"] == "INSERT"
    assert records[0]["dynamodb"]["NewImage"]["status"] == {"S": "CONFIRMED"}
    assert records[0]["eventSourceARN"] == moto_stack.attribute("Table", "StreamArn")


def test_a_failed_record_is_retried_from_where_it_failed_then_dead_lettered(moto_stack: Any) -> None:
    write(moto_stack, "BOOKING#ok", "BOOKING#bad", "BOOKING#after")
    function = RecordingFunction(failing_keys=("BOOKING#bad",))
    dead = poll_once(moto_stack, function, max_retries=2)
    assert len(function.events) == 3  # first try + 2 retries
    retried = [[r["dynamodb"]["Keys"]["PK"]["S"] for r in e["Records"]] for e in function.events]
    assert retried[1] == ["BOOKING#bad", "BOOKING#after"]  # the successful record is not sent again
    assert [[r["dynamodb"]["Keys"]["PK"]["S"] for r in records] for records, _ in dead] == [
        ["BOOKING#bad", "BOOKING#after"]
    ]


def test_a_function_that_fails_once_gets_the_batch_again(moto_stack: Any) -> None:
    write(moto_stack, "BOOKING#1")
    function = RecordingFunction(fail_first=1)
    assert poll_once(moto_stack, function) == []
    assert len(function.events) == 2


def payouts_schedule() -> Schedule:
    (payouts,) = [f for f in functions(load_template()) if f.logical_id == "PayoutsJobFunction"]
    return payouts.schedules[0]


def test_schedules_fire_at_their_paris_time_and_hand_over_the_scheduled_time() -> None:
    schedule = payouts_schedule()
    scheduler = Scheduler([(schedule, RecordingFunction())], dead_letter=None)  # type: ignore[list-item]
    winter, _, _ = scheduler.next_runs(datetime(2026, 11, 2, tzinfo=UTC))[0]
    assert winter.astimezone(UTC) == datetime(2026, 11, 16, 1, 0, tzinfo=UTC)  # 02:00 Paris, UTC+1
    summer, _, _ = scheduler.next_runs(datetime(2026, 6, 20, tzinfo=UTC))[0]
    assert summer.astimezone(UTC) == datetime(2026, 7, 1, 0, 0, tzinfo=UTC)  # 02:00 Paris, UTC+2
    assert schedule_input(schedule, winter) == {"job": "payouts", "time": "2026-11-16T01:00:00Z"}


def test_a_failing_job_is_retried_then_dead_lettered() -> None:
    schedule = payouts_schedule()
    function = RecordingFunction(fail_first=99)
    dead: list[Any] = []
    scheduler = Scheduler([], dead_letter=lambda s, event, error: dead.append((s.name, event)))
    scheduler.fire(schedule, function, datetime(2026, 11, 16, 1, 0, tzinfo=UTC))  # type: ignore[arg-type]
    assert len(function.events) == schedule.max_retries + 1 == 4
    assert dead == [("PayoutsJobFunction.Biweekly", {"job": "payouts", "time": "2026-11-16T01:00:00Z"})]


@pytest.mark.parametrize(
    "function_id", ["StockImportJobFunction", "ExpireBookingsJobFunction", "AutoValidateJobFunction"]
)
def test_daily_jobs_fire_every_day(function_id: str) -> None:
    (function,) = [f for f in functions(load_template()) if f.logical_id == function_id]
    scheduler = Scheduler([(function.schedules[0], RecordingFunction())], dead_letter=None)  # type: ignore[list-item]
    first, _, _ = scheduler.next_runs(datetime(2026, 11, 23, 12, tzinfo=UTC))[0]
    second, _, _ = scheduler.next_runs(first)[0]
    assert (second - first).total_seconds() == 24 * 3600


def test_the_poller_keeps_reading_after_a_failed_transaction(moto_stack: Any) -> None:
    """moto restores its tables from a deep copy when a transaction fails: the poller must not be left reading the
    old stream shard (it was: every email after the first refused booking was lost locally)."""
    function = RecordingFunction()
    poller = StreamPoller(
        moto_stack.clients.client("dynamodbstreams"), moto_stack.attribute("Table", "StreamArn"), function,  # type: ignore[arg-type]
        max_retries=0, batch_size=1, on_failure=lambda records, reason: None,
    )  # fmt: skip
    poller.start()

    def delivered(count: int) -> bool:
        deadline = time.monotonic() + 10
        while poller.delivered < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return poller.delivered >= count

    write(moto_stack, "BOOKING#before")
    assert delivered(1)
    table = dynamo.Table(moto_stack.clients.client("dynamodb"), moto_stack.ref("Table"))
    with pytest.raises(dynamo.TransactionCancelled):
        table.transact([dynamo.Put({**dynamo.key("BOOKING#before", "X")}, dynamo.ITEM_IS_NEW)])
    write(moto_stack, "BOOKING#after")
    assert delivered(2)
    poller.stop()
    keys = [r["dynamodb"]["Keys"]["PK"]["S"] for e in function.events for r in e["Records"]]
    assert keys == ["BOOKING#before", "BOOKING#after"]


class QueueFunction:
    """Stands in for an SQS-triggered function: reports the messages whose body says `fail` as failures."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def invoke(self, event: dict[str, Any], timeout: float | None = None) -> Any:
        records = event["Records"]
        assert all(r["eventSource"] == "aws:sqs" and r["eventSourceARN"].endswith("StockImportQueue") for r in records)
        self.bodies += [r["body"] for r in records]
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records if r["body"] == "fail"]}


def test_queue_messages_reach_the_function_and_failures_end_in_the_dlq(moto_stack: Any) -> None:
    from infra.local.background import QueuePoller

    sqs = moto_stack.clients.client("sqs")
    queue_url, dlq_url = moto_stack.ref("StockImportQueue"), moto_stack.ref("StockImportDLQ")
    for body in ("venue-1", "fail", "venue-2"):
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    function = QueueFunction()
    poller = QueuePoller(
        sqs, queue_url, moto_stack.attribute("StockImportQueue", "Arn"), function,  # type: ignore[arg-type]
        batch_size=5, retry_seconds=1, interval=0.05,
    )  # fmt: skip
    poller.start()
    deadline = time.monotonic() + 30
    dead: list[Any] = []
    while time.monotonic() < deadline and not dead:
        dead = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
        time.sleep(0.2)
    poller.stop()
    assert [m["Body"] for m in dead] == ["fail"]  # after the queue's maxReceiveCount receives
    assert function.bodies.count("venue-1") == function.bodies.count("venue-2") == 1  # done once, deleted
    assert function.bodies.count("fail") >= 2


def test_a_message_is_hidden_for_as_long_as_its_function_runs(moto_stack: Any) -> None:
    """The queue's own visibility timeout hides a message during a run longer than the local retry delay: a long
    stock import is never delivered to a second worker meanwhile (AWS: 5400 s for a 900 s function)."""
    from infra.local.background import QueuePoller

    class SlowFunction(QueueFunction):
        def invoke(self, event: dict[str, Any], timeout: float | None = None) -> Any:
            time.sleep(2.5)
            return super().invoke(event, timeout)

    sqs = moto_stack.clients.client("sqs")
    queue_url = moto_stack.ref("StockImportQueue")
    sqs.send_message(QueueUrl=queue_url, MessageBody="venue-slow")
    function = SlowFunction()
    poller = QueuePoller(
        sqs, queue_url, moto_stack.attribute("StockImportQueue", "Arn"), function,  # type: ignore[arg-type]
        batch_size=1, retry_seconds=1, interval=0.05,
    )  # fmt: skip
    poller.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and poller.delivered < 1:
        time.sleep(0.1)
    time.sleep(1.5)  # past the retry delay: a message hidden only that long would have come back by now
    poller.stop()
    assert function.bodies == ["venue-slow"]
