"""What the local stack does that moto does not: the stream poller (the outbox's trigger), the queue poller, and the
scheduler handing its events to Lambda's asynchronous invocation (Lambda's retries, maximum event age and on-failure
destination for a failed run; Scheduler's retry policy and dead-letter queue only for a refused hand-over)."""

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.local.background import AsyncInvoker, InvocationRefused, Scheduler, StreamPoller, schedule_input
from infra.local.embedded_aws import EmbeddedAws, provision
from infra.local.runtime import FunctionError, FunctionTimeout
from infra.local.stack import async_invoker, schedule_dead_letter
from infra.local.template import AsyncInvokeConfig, Function, Schedule, functions, load_template
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


class FakeClock:
    """The invoker's clock and sleep: a wait moves the time on at once, so Lambda's minutes pass in no time."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
        self.waits: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.now += timedelta(seconds=seconds)
        return False  # not stopping


class TimedFunction(RecordingFunction):
    """A job whose every run takes `seconds` of the fake clock's time."""

    def __init__(self, clock: FakeClock, seconds: float, fail_first: int = 0) -> None:
        super().__init__(fail_first=fail_first)
        self._clock, self._seconds = clock, seconds

    def invoke(self, event: dict[str, Any], timeout: float | None = None) -> Any:
        self._clock.now += timedelta(seconds=self._seconds)
        return super().invoke(event, timeout)


PAYOUTS_EVENT = {"job": "payouts", "time": "2026-11-16T01:00:00Z"}


def template_function(logical_id: str) -> Function:
    (function,) = [f for f in functions(load_template()) if f.logical_id == logical_id]
    return function


def received(moto_stack: Any, queue: str) -> list[dict[str, Any]]:
    sqs = moto_stack.clients.client("sqs")
    messages = sqs.receive_message(QueueUrl=moto_stack.ref(queue), MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def payouts_invoker(moto_stack: Any, function: RecordingFunction, clock: FakeClock) -> AsyncInvoker:
    """The payouts job's asynchronous invocation wired as the local stack wires it (its EventInvokeConfig from the
    template, its on-failure queue resolved in the embedded AWS), with AWS's own waits on a fake clock."""
    return async_invoker(
        template_function("PayoutsJobFunction"),
        function,
        moto_stack,
        moto_stack.clients.client("sqs"),
        time_scale=1.0,
        clock=clock,
        sleep=clock.sleep,
    )


def invoker_of(function: RecordingFunction, clock: FakeClock, config: AsyncInvokeConfig, sent: list[Any]) -> Any:
    return AsyncInvoker(
        function,
        config,
        function_arn="arn:aws:lambda:eu-west-3:123456789012:function:job",
        on_failure=sent.append,
        time_scale=1.0,
        clock=clock,
        sleep=clock.sleep,
    )


def test_a_failing_job_is_retried_by_lambda_then_its_record_lands_in_the_on_failure_queue(moto_stack: Any) -> None:
    schedule, clock = payouts_schedule(), FakeClock()
    function = RecordingFunction(fail_first=99)
    scheduler = Scheduler(
        [], dead_letter=schedule_dead_letter(moto_stack.clients.client("sqs"), moto_stack.ref("SchedulesDLQ"))
    )
    handed = scheduler.fire(
        schedule, payouts_invoker(moto_stack, function, clock), datetime(2026, 11, 16, 1, tzinfo=UTC)
    )
    assert handed is not None
    result = handed.result(timeout=10)
    config = template_function("PayoutsJobFunction").async_invoke
    assert config.max_retries == 2 != schedule.max_retries  # Lambda's retries, not the schedule's RetryPolicy
    assert len(function.events) == config.max_retries + 1 == 3
    assert clock.waits == [60, 120]  # Lambda waits 1 minute before the first retry, 2 before the second
    assert (result.condition, result.attempts) == ("RetriesExhausted", 3)
    (record,) = received(moto_stack, "JobsFailureQueue")
    assert record == {
        "version": "1.0",
        "timestamp": "2026-11-16T01:03:00.000Z",
        "requestContext": {
            "requestId": record["requestContext"]["requestId"],
            "functionArn": moto_stack.attribute("PayoutsJobFunction", "Arn") + ":$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": PAYOUTS_EVENT,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "boom", "errorType": "RuntimeError"},
    }
    assert uuid.UUID(record["requestContext"]["requestId"])
    assert received(moto_stack, "SchedulesDLQ") == []  # Lambda accepted the event: nothing for Scheduler's DLQ


def test_a_job_that_succeeds_on_its_second_attempt_sends_nothing(moto_stack: Any) -> None:
    clock = FakeClock()
    function = RecordingFunction(fail_first=1)
    result = payouts_invoker(moto_stack, function, clock).submit(PAYOUTS_EVENT).result(timeout=10)
    assert (result.condition, result.attempts, result.record) == ("Success", 2, None)
    assert function.events == [PAYOUTS_EVENT, PAYOUTS_EVENT]
    assert clock.waits == [60]
    assert received(moto_stack, "JobsFailureQueue") == []


def test_an_event_past_its_maximum_age_is_not_run_again() -> None:
    """Each run takes 1 s: the retry after 60 s starts at an age of 61 s (< 120), the next one would start at 182 s."""
    clock, sent = FakeClock(), list[Any]()
    function = TimedFunction(clock, seconds=1, fail_first=99)
    invoker = invoker_of(function, clock, AsyncInvokeConfig(max_retries=2, max_event_age_seconds=120), sent)
    result = invoker.submit(PAYOUTS_EVENT).result(timeout=10)
    assert len(function.events) == 2
    assert (result.condition, result.attempts) == ("EventAgeExceeded", 2)
    (record,) = sent
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestPayload"] == PAYOUTS_EVENT
    assert record["responsePayload"] == {"errorMessage": "boom", "errorType": "RuntimeError"}  # the last attempt's


def test_the_age_counts_lambdas_full_waits_even_when_they_are_shortened_locally() -> None:
    """Locally the waits are shortened (here to a hundredth): the event still ages as in AWS, 60 s then 120 s."""
    clock, sent = FakeClock(), list[Any]()
    function = RecordingFunction(fail_first=99)
    invoker = AsyncInvoker(
        function,
        AsyncInvokeConfig(max_retries=2, max_event_age_seconds=100),
        function_arn="arn:aws:lambda:eu-west-3:123456789012:function:job",
        on_failure=sent.append,
        time_scale=0.01,
        clock=clock,
        sleep=clock.sleep,
    )
    result = invoker.submit(PAYOUTS_EVENT).result(timeout=10)
    assert clock.waits == [0.6, 1.2]  # the first retry ran at an age of 60 s; the second would have at 180 s
    assert (result.condition, result.attempts, len(function.events)) == ("EventAgeExceeded", 2, 2)


def test_with_no_retries_configured_a_failed_run_is_attempted_once() -> None:
    clock, sent = FakeClock(), list[Any]()
    function = RecordingFunction(fail_first=99)
    result = invoker_of(function, clock, AsyncInvokeConfig(max_retries=0), sent).submit(PAYOUTS_EVENT).result(10)
    assert len(function.events) == 1
    assert clock.waits == []
    assert [r["requestContext"]["approximateInvokeCount"] for r in sent] == [1]
    assert result.condition == "RetriesExhausted"


def test_a_timed_out_run_is_a_function_error_and_is_retried() -> None:
    class TimingOut(RecordingFunction):
        def invoke(self, event: dict[str, Any], timeout: float | None = None) -> Any:
            self.events.append(event)
            raise FunctionTimeout(900)

    clock, sent = FakeClock(), list[Any]()
    function = TimingOut()
    invoker_of(function, clock, AsyncInvokeConfig(max_retries=1), sent).submit(PAYOUTS_EVENT).result(timeout=10)
    assert len(function.events) == 2
    assert sent[0]["responsePayload"] == {
        "errorMessage": "Task timed out after 900.00 seconds",
        "errorType": "Sandbox.Timedout",
    }


def test_without_a_destination_a_failed_event_is_logged_and_dropped(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    function = RecordingFunction(fail_first=99)
    invoker = AsyncInvoker(
        function,
        AsyncInvokeConfig(),  # Lambda's defaults: 2 retries, 6 hours, no destination
        function_arn="arn:aws:lambda:eu-west-3:123456789012:function:job",
        on_failure=None,
        time_scale=1.0,
        clock=clock,
        sleep=clock.sleep,
    )
    with caplog.at_level(logging.ERROR, logger="local.background"):
        result = invoker.submit(PAYOUTS_EVENT).result(timeout=10)
    assert (result.condition, len(function.events)) == ("RetriesExhausted", 3)
    assert "no on-failure destination: event dropped" in caplog.text


class RefusingTarget:
    """Lambda refusing the hand-over (in AWS: throttled, function missing, no permission)."""

    def __init__(self) -> None:
        self.offered = 0

    def submit(self, event: dict[str, Any]) -> Any:
        self.offered += 1
        raise InvocationRefused("Rate exceeded")


def test_the_schedules_dlq_is_used_only_when_the_hand_over_fails(moto_stack: Any) -> None:
    schedule = payouts_schedule()
    dead_letter = schedule_dead_letter(moto_stack.clients.client("sqs"), moto_stack.ref("SchedulesDLQ"))
    scheduler = Scheduler([], dead_letter=dead_letter, retry_seconds=0.01)
    target = RefusingTarget()
    assert scheduler.fire(schedule, target, datetime(2026, 11, 16, 1, tzinfo=UTC)) is None  # type: ignore[arg-type]
    assert target.offered == schedule.max_retries + 1 == 4  # Scheduler's own RetryPolicy
    assert received(moto_stack, "SchedulesDLQ") == [
        {"schedule": "PayoutsJobFunction.Biweekly", "event": PAYOUTS_EVENT, "error": "Rate exceeded"}
    ]
    assert received(moto_stack, "JobsFailureQueue") == []


def test_a_stopped_invoker_refuses_events_and_cuts_its_retry_wait_short() -> None:
    """Stopping the stack: an event waiting for its retry (here Lambda's full minute) is dropped at once, and a new
    event is refused, so the scheduler dead-letters it (the run never started)."""
    function = RecordingFunction(fail_first=99)
    sent: list[Any] = []
    invoker = AsyncInvoker(
        function,
        AsyncInvokeConfig(),
        function_arn="arn:aws:lambda:eu-west-3:123456789012:function:job",
        on_failure=sent.append,
        time_scale=1.0,
    )
    waiting = invoker.submit(PAYOUTS_EVENT)
    assert function.called.wait(5)
    invoker.stop()
    assert waiting.result(timeout=5).condition == "Stopped"
    with pytest.raises(InvocationRefused):
        invoker.submit(PAYOUTS_EVENT)
    dead: list[Any] = []
    scheduler = Scheduler([], dead_letter=lambda s, event, error: dead.append(event), retry_seconds=0.01)
    assert scheduler.fire(payouts_schedule(), invoker, datetime(2026, 11, 16, 1, tzinfo=UTC)) is None
    assert dead == [PAYOUTS_EVENT]
    assert len(function.events) == 1
    assert sent == []


def test_shortened_waits_really_retry_within_a_test() -> None:
    """The real clock and sleep, Lambda's waits shortened to 60 ms and 120 ms."""
    function = RecordingFunction(fail_first=2)
    invoker = AsyncInvoker(
        function,
        AsyncInvokeConfig(),
        function_arn="arn:aws:lambda:eu-west-3:123456789012:function:job",
        on_failure=None,
        time_scale=0.001,
    )
    started = time.monotonic()
    result = invoker.submit(PAYOUTS_EVENT).result(timeout=5)
    assert (result.condition, result.attempts) == ("Success", 3)
    assert 0.18 <= time.monotonic() - started < 2


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


def test_the_streams_filter_lets_through_only_what_can_call_for_an_email(moto_stack: Any) -> None:
    """The template's FilterCriteria, applied as Lambda does: records of other entities never reach the function,
    and the filter names exactly the entities notifications/decide.py emails about."""
    import json

    from infra.local.template import load_template
    from pass_culture.notifications.decide import EMAILING_ENTITIES

    event = load_template()["Resources"]["NotificationsFunction"]["Properties"]["Events"]["TableStream"]
    patterns = [json.loads(f["Pattern"]) for f in event["Properties"]["FilterCriteria"]["Filters"]]
    assert patterns == [{"dynamodb": {"NewImage": {"entity": {"S": list(EMAILING_ENTITIES)}}}}]
    table = dynamo.Table(moto_stack.clients.client("dynamodb"), moto_stack.ref("Table"))
    table.put({**dynamo.key("NOTIFIED#x", "EMAIL#y"), "sentAt": "now"})  # bookkeeping: no entity
    table.put({**dynamo.key("PAYABLE_POINTS", "PRICING_POINT#v"), "entity": "PAYABLE_POINT"})
    table.put({**dynamo.key("BOOKING#1", "BOOKING"), "entity": "BOOKING", "status": "CONFIRMED"})
    function, dead = RecordingFunction(), []
    poller = StreamPoller(
        moto_stack.clients.client("dynamodbstreams"), moto_stack.attribute("Table", "StreamArn"),
        function,  # type: ignore[arg-type]
        max_retries=0, batch_size=50, on_failure=lambda records, reason: dead.append(records), filters=patterns,
    )  # fmt: skip
    poller.start()
    assert function.called.wait(10)
    poller.stop()
    delivered = [r["dynamodb"]["Keys"]["PK"]["S"] for e in function.events for r in e["Records"]]
    assert delivered == ["BOOKING#1"] and dead == []
