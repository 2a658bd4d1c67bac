"""The daily jobs, by time travel: bookings made at a chosen instant, jobs run as of their schedule's event time
(03:00 auto-validation, 00:30 expiry, Europe/Paris), moto in-process behind."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from pass_culture.access import Caller
from pass_culture.accounts.repository import AccountsRepository
from pass_culture.bookings.models import BookInput
from pass_culture.bookings.repository import BookingsRepository, booking_key
from pass_culture.bookings.rules import BookingStatus
from pass_culture.bookings.service import BookingsService
from pass_culture.bookings.tracking import BookingFilters, TrackingService
from pass_culture.clock import FixedClock, isoformat, paris_midnight, parse_instant
from pass_culture.counter.repository import CounterRepository
from pass_culture.daily_jobs.models import Candidate, Chunk
from pass_culture.daily_jobs.repository import DailyJobsRepository
from pass_culture.daily_jobs.rules import Action, Job
from pass_culture.daily_jobs.service import DailyJobs
from pass_culture.dynamo import Item, encode_cursor
from pass_culture.offers.models import UpdateStockInput
from tests.events import FakeContext, claims_of
from tests.integration.booking_world import PRO, World, world  # noqa: F401 - the fixture
from tests.integration.conftest import call_api

DAY_0 = date.today() + timedelta(days=1)  # bookings are made at its 00:00 Paris: in the future, credits are valid
AUTO_VALIDATION_HOUR, EXPIRY_TIME = 3, timedelta(minutes=30)


def day(n: int, at: timedelta = timedelta()) -> datetime:
    return paris_midnight(DAY_0 + timedelta(days=n)) + at


def auto_run(n: int) -> datetime:
    return day(n, timedelta(hours=AUTO_VALIDATION_HOUR))


def expiry_run(n: int) -> datetime:
    return day(n, EXPIRY_TIME)


class ListQueue:
    def __init__(self) -> None:
        self.chunks: list[Chunk] = []

    def send(self, chunk: Chunk) -> None:
        self.chunks.append(Chunk.model_validate_json(chunk.model_dump_json()))  # as SQS would carry it


@pytest.fixture
def queue() -> ListQueue:
    return ListQueue()


@pytest.fixture
def jobs(world: World, queue: ListQueue) -> DailyJobs:  # noqa: F811
    return DailyJobs(DailyJobsRepository(world.table, sleep=lambda _: None), queue)


def book(world: World, claims: dict[str, str], stock_id: str, at: datetime) -> str:  # noqa: F811
    service = BookingsService(BookingsRepository(world.table), FixedClock(at))
    caller = Caller(user_id=claims["sub"], email=None, groups=frozenset({"beneficiary"}))
    return str(service.book(caller, BookInput(stock_id=stock_id, quantity=1))["id"])


def booking(world: World, booking_id: str) -> Item:  # noqa: F811
    found = world.table.get(booking_key(booking_id))
    assert found is not None
    return found


def test_a_free_library_card_validates_itself_on_day_30_not_29_and_once(world: World, jobs: DailyJobs) -> None:  # noqa: F811
    card = book(world, world.young(), world.offer("ABO_BIBLIOTHEQUE", 0, quantity=None), day(0))

    on_29 = jobs.auto_validate(auto_run(29))
    assert (on_29["candidates"], on_29.get("validated", 0)) == (0, 0)
    assert booking(world, card)["status"] == "CONFIRMED"

    on_30 = jobs.auto_validate(auto_run(30))
    assert (on_30["candidates"], on_30["validated"], on_30["skipped"]) == (1, 1, {})
    stored = booking(world, card)
    assert (stored["status"], stored["validationAuthor"]) == ("USED", "AUTO")
    assert stored["usedAt"] == isoformat(auto_run(30)) and "GSI3PK" not in stored
    assert stored["GSI2PK"].startswith("PAYABLE#")  # it now counts for the payouts

    replay = jobs.auto_validate(auto_run(30))
    assert (replay["candidates"], replay.get("validated", 0)) == (0, 0)
    assert booking(world, card) == stored  # nothing more written


def test_the_venue_sees_who_validated_auto_or_the_pro(world: World, jobs: DailyJobs) -> None:  # noqa: F811
    stock = world.offer("ABO_MEDIATHEQUE", 0, quantity=None)
    by_job, at_counter = (book(world, world.young(), stock, day(0)) for _ in range(2))
    CounterRepository(world.table).use(BookingsRepository(world.table).get(at_counter), "PRO:pro", day(12))  # type: ignore[arg-type]
    jobs.auto_validate(auto_run(30))
    tracking = TrackingService(BookingsRepository(world.table), AccountsRepository(world.table))
    listed = tracking.bookings(PRO, BookingFilters(offererId=world.offerer_id, status=BookingStatus.USED), 20, None)[
        "items"
    ]
    authors = {item["id"]: item["validationAuthor"] for item in listed}
    assert authors == {by_job: "AUTO", at_counter: "PRO:pro"}


def test_a_card_validated_at_the_counter_or_cancelled_is_left_alone(world: World, jobs: DailyJobs) -> None:  # noqa: F811
    stock = world.offer("CARTE_MUSEE", 0, quantity=None)
    used_young, cancelled_young = world.young(), world.young()
    used = book(world, used_young, stock, day(0))
    cancelled = book(world, cancelled_young, stock, day(0))
    CounterRepository(world.table).use(BookingsRepository(world.table).get(used), "PRO:pro", day(12))  # type: ignore[arg-type]
    assert world.cancel(cancelled_young, cancelled).status == 200
    before = (booking(world, used), booking(world, cancelled))

    report = jobs.auto_validate(auto_run(30))
    assert report["candidates"] == 0  # neither is in the index any more: nothing old is read
    assert (booking(world, used), booking(world, cancelled)) == before
    assert before[0]["validationAuthor"] == "PRO:pro"


def test_a_paid_card_waits_for_the_counter(world: World, jobs: DailyJobs) -> None:  # noqa: F811
    paid = book(world, world.young(), world.offer("ABO_BIBLIOTHEQUE", 500, quantity=None), day(0))
    assert jobs.auto_validate(auto_run(31))["candidates"] == 0
    assert booking(world, paid)["status"] == "CONFIRMED"


def test_days_the_job_did_not_run_are_caught_up(world: World, jobs: DailyJobs) -> None:  # noqa: F811
    stock = world.offer("ABO_BIBLIOTHEQUE", 0, quantity=None)
    card = book(world, world.young(), stock, day(0))
    late = book(world, world.young(), stock, day(2))
    assert jobs.auto_validate(auto_run(29))["candidates"] == 0  # then no run on days 30 to 33
    on_34 = jobs.auto_validate(auto_run(34))
    assert on_34["daysRead"] == {"from": (DAY_0 + timedelta(days=29)).isoformat(),
                                 "to": (DAY_0 + timedelta(days=34)).isoformat()}  # fmt: skip
    assert on_34["validated"] == 2
    assert booking(world, card)["status"] == booking(world, late)["status"] == "USED"


def test_an_event_booking_is_validated_48_hours_after_the_event_start(world: World, jobs: DailyJobs) -> None:  # noqa: F811
    stock = world.offer("CONCERT", 1500, quantity=5, days=1)
    start = world.stock(stock)["beginningDatetime"]
    booked = book(world, world.young(), stock, day(0))
    starts = datetime.fromisoformat(start.replace("Z", "+00:00"))
    just_before = jobs.auto_validate(starts + timedelta(hours=47, minutes=59))
    assert just_before.get("validated", 0) == 0 and booking(world, booked)["status"] == "CONFIRMED"
    after = jobs.auto_validate(starts + timedelta(hours=48))
    assert after["validated"] == 1
    assert (booking(world, booked)["status"], booking(world, booked)["validationAuthor"]) == ("USED", "AUTO")


def test_a_book_is_reminded_on_day_5_and_expires_on_day_10_with_stock_and_credit_back(
    world: World,  # noqa: F811
    jobs: DailyJobs,
) -> None:
    young = world.young()
    stock = world.offer("LIVRE_PAPIER", 1000, quantity=3)
    booked = book(world, young, stock, day(0))
    assert (world.stock(stock)["bookedQuantity"], world.credit(young)["spentCents"]) == (1, 1000)

    assert jobs.expire(expiry_run(4)).get("reminded", 0) == 0
    on_5 = jobs.expire(expiry_run(5))
    assert (on_5["reminded"], on_5.get("expired", 0)) == (1, 0)
    reminded = booking(world, booked)
    assert reminded["status"] == "CONFIRMED" and reminded["expiryReminderSentAt"]
    replay_5 = jobs.expire(expiry_run(5))
    assert (replay_5["candidates"], replay_5.get("reminded", 0)) == (0, 0)  # no second reminder
    assert booking(world, booked) == reminded

    assert jobs.expire(expiry_run(9)).get("expired", 0) == 0
    on_10 = jobs.expire(expiry_run(10))
    assert (on_10["expired"], on_10["skipped"]) == (1, {})
    expired = booking(world, booked)
    assert (expired["status"], expired["cancellationReason"]) == ("CANCELLED", "EXPIRED")
    assert (world.stock(stock)["bookedQuantity"], world.credit(young)["spentCents"]) == (0, 0)
    assert jobs.expire(expiry_run(10))["candidates"] == 0  # replay: nothing more
    assert booking(world, booked) == expired
    assert world.book(young, stock).status == 201  # the one-per-offer lock went with it


def test_other_things_are_reminded_on_day_23_and_expire_on_day_30(world: World, jobs: DailyJobs) -> None:  # noqa: F811
    booked = book(world, world.young(), world.offer("SUPPORT_PHYSIQUE_FILM", 1500, quantity=3), day(0))
    assert jobs.expire(expiry_run(22)).get("reminded", 0) == 0
    assert jobs.expire(expiry_run(23))["reminded"] == 1
    assert jobs.expire(expiry_run(29)).get("expired", 0) == 0
    assert jobs.expire(expiry_run(30))["expired"] == 1
    assert booking(world, booked)["cancellationReason"] == "EXPIRED"


def test_a_book_booked_in_the_afternoon_expires_the_night_after_its_tenth_day(world: World, jobs: DailyJobs) -> None:  # noqa: F811
    booked = book(world, world.young(), world.offer("LIVRE_PAPIER", 1000), day(0, timedelta(hours=14)))
    assert jobs.expire(expiry_run(10)).get("expired", 0) == 0  # booked-at + 10 days > day 10's 00:00
    assert jobs.expire(expiry_run(11))["expired"] == 1
    assert booking(world, booked)["status"] == "CANCELLED"


def test_a_missed_week_expires_without_a_late_reminder(world: World, jobs: DailyJobs) -> None:  # noqa: F811
    booked = book(world, world.young(), world.offer("LIVRE_PAPIER", 1000), day(0))
    jobs.expire(expiry_run(1))  # then nothing until day 12
    report = jobs.expire(expiry_run(12))
    assert (report["expired"], report.get("reminded", 0)) == (1, 0)
    assert booking(world, booked).get("expiryReminderSentAt") is None


def test_a_missed_reminder_day_is_caught_up_before_expiry(world: World, jobs: DailyJobs) -> None:  # noqa: F811
    booked = book(world, world.young(), world.offer("LIVRE_PAPIER", 1000), day(0))
    jobs.expire(expiry_run(4))  # no run on days 5 and 6
    assert jobs.expire(expiry_run(7))["reminded"] == 1
    assert booking(world, booked)["expiryReminderSentAt"]


class CounterFirst(DailyJobsRepository):
    """The race: between the job's read of the index and its write, the venue validates (or the young person
    cancels) the booking."""

    def __init__(self, world: World, meanwhile: Any) -> None:  # noqa: F811
        super().__init__(world.table, sleep=lambda _: None)
        self._meanwhile = meanwhile

    def act(self, action: Action, candidate: Candidate, now: datetime) -> tuple[bool, Item | None]:
        self._meanwhile(candidate.id)
        return super().act(action, candidate, now)


def test_a_booking_validated_at_the_counter_after_the_read_is_skipped_with_its_reason(
    world: World,  # noqa: F811
    queue: ListQueue,
) -> None:
    booked = book(world, world.young(), world.offer("ABO_BIBLIOTHEQUE", 0, quantity=None), day(0))
    counter, bookings = CounterRepository(world.table), BookingsRepository(world.table)
    racing = DailyJobs(CounterFirst(world, lambda i: counter.use(bookings.get(i), "PRO:pro", day(30))), queue)  # type: ignore[arg-type]
    report = racing.auto_validate(auto_run(30))
    assert (report["candidates"], report.get("validated", 0), report["skipped"]) == (1, 0, {"VALIDATED_AT_COUNTER": 1})
    assert booking(world, booked)["validationAuthor"] == "PRO:pro"


def test_a_booking_cancelled_after_the_read_is_not_expired(world: World, queue: ListQueue) -> None:  # noqa: F811
    young = world.young()
    stock = world.offer("LIVRE_PAPIER", 1000, quantity=3)
    booked = book(world, young, stock, day(0))
    racing = DailyJobs(CounterFirst(world, lambda i: world.cancel(young, i)), queue)
    report = racing.expire(expiry_run(10))
    assert report["skipped"] == {"CANCELLED": 1} and report.get("expired", 0) == 0
    stored = booking(world, booked)
    assert stored["cancellationReason"] == "BENEFICIARY"
    assert (world.stock(stock)["bookedQuantity"], world.credit(young)["spentCents"]) == (0, 0)  # given back once


def test_a_large_day_fans_out_to_the_worker_and_its_figures_add_up_once(world: World, queue: ListQueue) -> None:  # noqa: F811
    stock = world.offer("ABO_BIBLIOTHEQUE", 0, quantity=None)
    cards = [book(world, world.young(), stock, day(0)) for _ in range(5)]
    jobs = DailyJobs(DailyJobsRepository(world.table), queue, in_process_limit=2, chunk_size=2)
    report = jobs.auto_validate(auto_run(30))
    assert (report["candidates"], report["validated"], report["chunksQueued"], report["status"]) == (5, 2, 2, "QUEUED")
    assert [len(chunk.candidates) for chunk in queue.chunks] == [2, 1]

    for chunk in [queue.chunks[0], queue.chunks[0], queue.chunks[1]]:  # SQS delivers the first one twice
        jobs.handle_chunk(chunk)
    assert {booking(world, card)["status"] for card in cards} == {"USED"}
    (run,) = jobs_runs(world)
    assert (run["validated"], run["candidates"], run["chunksDone"], run["status"]) == (5, 5, 2, "DONE")
    assert run["skipped"] == {}


def test_a_chunk_half_done_before_a_crash_counts_what_it_did_once(world: World, queue: ListQueue) -> None:  # noqa: F811
    stock = world.offer("ABO_BIBLIOTHEQUE", 0, quantity=None)
    for _ in range(3):
        book(world, world.young(), stock, day(0))
    jobs = DailyJobs(DailyJobsRepository(world.table), queue, in_process_limit=0, chunk_size=3)
    jobs.auto_validate(auto_run(30))
    (chunk,) = queue.chunks
    done, _ = DailyJobsRepository(world.table).validate(chunk.candidates[0], chunk.time)  # then the worker died
    assert done
    jobs.handle_chunk(chunk)  # the redelivery finds the first one done by this very run
    (run,) = jobs_runs(world)
    assert (run["validated"], run["skipped"], run["status"]) == (3, {}, "DONE")


def jobs_runs(world: World) -> list[dict[str, Any]]:  # noqa: F811
    return DailyJobsRepository(world.table).runs(Job.AUTO_VALIDATE, 10, None)[0]


def test_the_worker_reports_a_bad_message_alone(deployed: Any, world: World, queue: ListQueue) -> None:  # noqa: F811
    stock = world.offer("ABO_BIBLIOTHEQUE", 0, quantity=None)
    card = book(world, world.young(), stock, day(0))
    DailyJobs(DailyJobsRepository(world.table), queue, in_process_limit=0).auto_validate(auto_run(30))
    worker = deployed("DailyJobsWorkerFunction")
    records = [
        {"messageId": "good", "body": queue.chunks[0].model_dump_json(), "attributes": {"ApproximateReceiveCount": "1"},
         "eventSource": "aws:sqs", "receiptHandle": "r1"},
        {"messageId": "bad", "body": json.dumps({"job": "nope"}), "attributes": {"ApproximateReceiveCount": "1"},
         "eventSource": "aws:sqs", "receiptHandle": "r2"},
    ]  # fmt: skip
    answer = worker.lambda_handler({"Records": records}, FakeContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    assert booking(world, card)["status"] == "USED"


def test_the_scheduled_handlers_run_as_of_their_event_and_answer_the_report(deployed: Any, world: World) -> None:  # noqa: F811
    card = book(world, world.young(), world.offer("ABO_BIBLIOTHEQUE", 0, quantity=None), day(0))
    handler = deployed("AutoValidateJobFunction").lambda_handler
    report = handler({"job": "auto-validate-bookings", "time": auto_run(30).isoformat()}, FakeContext())
    assert (report["job"], report["validated"], report["status"]) == ("auto-validate-bookings", 1, "DONE")
    assert booking(world, card)["status"] == "USED"
    expiry = deployed("ExpireBookingsJobFunction").lambda_handler
    assert expiry({"job": "expire-bookings", "time": expiry_run(30).isoformat()}, FakeContext())["status"] == "DONE"


def test_admins_read_the_runs_newest_first_and_no_one_else(deployed: Any, world: World, jobs: DailyJobs) -> None:  # noqa: F811
    book(world, world.young(), world.offer("ABO_BIBLIOTHEQUE", 0, quantity=None), day(0))
    jobs.auto_validate(auto_run(29))
    jobs.auto_validate(auto_run(30))
    call = call_api(deployed("PlatformApiFunction"))
    admin = claims_of("admin", "admin")
    answer = call("GET", "/admin/job-runs", query={"job": "auto-validate-bookings"}, claims=admin)
    assert answer.status == 200
    runs = answer.body["items"]
    assert [run.get("validated", 0) for run in runs] == [1, 0]
    assert runs[0]["status"] == "DONE" and runs[0]["time"] and "durationMs" in runs[0] and "PK" not in runs[0]
    pro = claims_of("pro", "pro")
    assert call("GET", "/admin/job-runs", query={"job": "auto-validate-bookings"}, claims=pro).status == 403
    assert call("GET", "/admin/job-runs", query={"job": "auto-validate-bookings"}).status == 401
    assert call("GET", "/admin/job-runs", query={"job": "payouts-of-mars"}, claims=admin).status == 400
    assert call("GET", "/admin/job-runs", claims=admin).status == 400
    first = call("GET", "/admin/job-runs", query={"job": "auto-validate-bookings", "limit": "1"}, claims=admin)
    then = {"job": "auto-validate-bookings", "limit": "1", "cursor": first.body["nextCursor"]}
    assert [run["runId"] for run in call("GET", "/admin/job-runs", query=then, claims=admin).body["items"]] == [
        runs[1]["runId"]
    ]
    forged = encode_cursor({"PK": "JOBRUN#auto-validate-bookings"})  # DynamoDB would refuse this start key: a 500
    assert call("GET", "/admin/job-runs", query={**then, "cursor": forged}, claims=admin).status == 400


def test_an_event_moved_later_by_the_venue_is_validated_48_hours_after_its_new_start(
    world: World,  # noqa: F811
    jobs: DailyJobs,
) -> None:
    stock = world.offer("SPECTACLE_REPRESENTATION", 1500, quantity=5, days=2)
    booked = book(world, world.young(), stock, day(0))
    old_start = parse_instant(world.stock(stock)["beginningDatetime"])
    new_start = old_start + timedelta(days=3)
    world.offers.update_stock(PRO, stock, UpdateStockInput(beginning_datetime=new_start))

    moved = jobs.auto_validate(old_start + timedelta(hours=48))
    assert (moved["candidates"], moved.get("validated", 0), moved["skipped"]) == (1, 0, {"EVENT_MOVED": 1})
    stored = booking(world, booked)
    assert (stored["status"], stored["eventDate"]) == ("CONFIRMED", isoformat(new_start))
    assert jobs.auto_validate(new_start + timedelta(hours=47))["candidates"] == 0
    assert jobs.auto_validate(new_start + timedelta(hours=48))["validated"] == 1
    assert booking(world, booked)["status"] == "USED"
