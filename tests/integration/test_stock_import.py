"""The stock import (domain.md, "Stock import") on moto in-process with the template's table: an in-memory feed
stands for the provider (`stock_import.provider.pages` in the worker)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from stdnum.ean import calc_check_digit

from pass_culture import dynamo
from pass_culture.accounts.models import Venue
from pass_culture.accounts.repository import venue_key
from pass_culture.clock import FixedClock
from pass_culture.dynamo import Expression, Throttled, TransactionCancelled
from pass_culture.offers.models import Stock
from pass_culture.offers.repository import OffersRepository, book_key, stock_key
from pass_culture.stock_import.models import ImportReport, ImportStatus
from pass_culture.stock_import.repository import StockImportRepository
from pass_culture.stock_import.service import StockImporter, VenueNotConnected, imported_offer_id
from tests.conftest import count_round_trips

START = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)


def ean(n: int) -> str:
    body = f"978{n:09d}"
    return body + calc_check_digit(body)


SCHOOL, PARASCHOOL, UNKNOWN, PRICED, UNPRICED = ean(900), ean(901), ean(902), ean(903), ean(904)


class World:
    def __init__(self, table: dynamo.Table, client: Any) -> None:
        self.table, self.client = table, client
        self.clock = FixedClock(START)
        self.sleeps: list[float] = []
        self.repository = StockImportRepository(table)
        self.importer = StockImporter(self.repository, self.clock, sleep=self.sleeps.append)
        self.offers = OffersRepository(table)
        books: list[dict[str, Any]] = [{"ean": ean(n), "title": f"Livre {n}", "clil": "3435"} for n in range(1, 260)]
        books += [
            {"ean": SCHOOL, "title": "Maths 3e", "clil": "3000"},
            {"ean": PARASCHOOL, "title": "Bescherelle", "clil": "3013"},
            {"ean": PRICED, "title": "Prix catalogue", "clil": "3435", "priceCents": 1990},
            {"ean": UNPRICED, "title": "Sans prix", "clil": "3435"},
        ]
        table.put_many([{**book_key(b["ean"]), "entity": "BOOK", **b} for b in books])

    def venue(self, name: str, *, cents: bool = False, provider: str = "titelive") -> Venue:
        venue = Venue(
            id=f"venue-{name}", offerer_id="offerer-1", name=f"Librairie {name}", siret="12345678200010",
            address="1 rue du Livre", postal_code="75003", city="Paris", latitude=48.859, longitude=2.356,
            booking_email="resa@librairie.example", created_at=START,
        )  # fmt: skip
        self.table.put({**venue_key(venue.id), "entity": "VENUE", **venue.to_api()})
        self.importer.connect(venue.id, provider, "https://provider.example/stocks", "tok", cents, START)
        return venue

    def offer(self, venue: Venue, ref: str) -> tuple[dict[str, Any], Stock] | None:
        found = self.offers.offer_with_stocks(imported_offer_id(venue.id, ref))
        if found is None:
            return None
        offer, stocks = found
        item = self.table.get(dynamo.key(f"OFFER#{offer.id}", "OFFER"))
        assert item is not None and len(stocks) == 1
        return item, stocks[0]

    def run(self, venue: Venue, feed: Feed, deadline: Any = lambda: False) -> ImportReport:
        return self.importer.run(venue.id, self.clock.now(), feed, deadline)


class Feed:
    """A provider's feed in memory: sorted by ref, paged by `after` (the last ref of a page)."""

    def __init__(self, lines: Sequence[dict[str, Any]], page_size: int = 5, fail_after: int | None = None) -> None:
        self.lines = sorted(lines, key=lambda line: str(line.get("ref", "")))
        self.page_size, self.fail_after = page_size, fail_after
        self.calls: list[tuple[str | None, datetime | None]] = []
        self.error: Exception = ProviderDown()

    def __call__(self, after: str | None, modified_since: datetime | None) -> Iterator[tuple[list[Any], str]]:
        self.calls.append((after, modified_since))
        rest = [line for line in self.lines if after is None or str(line.get("ref", "")) > after]
        for served, start in enumerate(range(0, len(rest), self.page_size)):
            if self.fail_after is not None and served == self.fail_after:
                raise self.error
            page = rest[start : start + self.page_size]
            yield page, str(page[-1].get("ref", ""))


class ProviderDown(Exception):
    def __init__(self) -> None:
        super().__init__("503 Service Unavailable")
        self.reason, self.retryable, self.detail = "HTTP_5XX", True, "503 from the provider"


class WorkerKilled(Exception):
    """Not a provider failure (no `.reason`): the run stays RUNNING at its last checkpoint."""


@pytest.fixture
def world(moto_stack: Any) -> World:
    client = boto3.client("dynamodb", region_name="eu-west-3")
    return World(dynamo.Table(client, moto_stack.ref("Table")), client)


def valid_lines(count: int = 20) -> list[dict[str, Any]]:
    return [{"ref": ean(n), "available": n % 7 + 1, "price": 10 + n / 4} for n in range(1, count + 1)]


def faulty_lines() -> list[dict[str, Any]]:
    return [
        {"ref": SCHOOL, "available": 3, "price": 12},
        {"ref": PARASCHOOL, "available": 3, "price": 12},
        {"ref": UNKNOWN, "available": 3, "price": 12},
        {"ref": "9782070360025", "available": 3, "price": 12},  # bad checksum
        {"ref": ean(40), "available": -1, "price": 12},
        {"ref": ean(41), "price": 12},
        {"available": 2, "price": 12},
        {"ref": PRICED, "available": 4},  # no price: the catalogue's
        {"ref": UNPRICED, "available": 4},  # no price anywhere
        {"ref": ean(42), "available": 0, "price": 9},  # nothing on the shelf: no offer
    ]


def writes(counter: Any) -> int:
    return sum(call in ("TransactWriteItems", "BatchWriteItem", "PutItem", "UpdateItem") for call in counter.calls)


def test_a_first_import_creates_offers_for_known_eligible_books_only(world: World) -> None:
    venue = world.venue("a")
    counter = count_round_trips(world.client)
    feed = Feed(valid_lines() + faulty_lines())

    def seven_seconds_a_page() -> bool:
        world.clock.advance(timedelta(seconds=7))  # the run started at START: 6 pages end it 42 s later
        return False

    report = world.importer.run(venue.id, START, feed, seven_seconds_a_page)

    assert report.status == ImportStatus.PARTIAL
    assert (report.read, report.created, report.updated, report.unchanged, report.skipped) == (30, 21, 0, 0, 1)
    assert report.rejected == {
        "INELIGIBLE_BOOK": 2, "UNKNOWN_BOOK": 1, "BAD_EAN": 1, "NEGATIVE_AVAILABLE": 1, "MISSING_AVAILABLE": 1,
        "MISSING_REF": 1, "MISSING_PRICE": 1,
    }  # fmt: skip
    assert {line.reason for line in report.rejected_lines} == set(report.rejected)
    assert {"ref": "9782070360025", "reason": "BAD_EAN"} in [line.to_api() for line in report.rejected_lines]
    assert report.pages == 6 and report.duration_ms == 42_000 and report.after == feed.lines[-1]["ref"]

    offer, stock = world.offer(venue, ean(3)) or pytest.fail("no offer")
    assert (offer["name"], offer["subcategoryId"], offer["isActive"], offer["venue"]["id"]) == (
        "Livre 3", "LIVRE_PAPIER", True, venue.id,
    )  # fmt: skip
    assert (offer["providerAvailable"], offer["providerPriceCents"]) == (4, 1075)
    assert (stock.quantity, stock.price_cents, stock.booked_quantity) == (4, 1075, 0)
    assert world.offer(venue, PRICED) is not None and world.offer(venue, PRICED)[1].price_cents == 1990  # type: ignore[index]
    for ref in (SCHOOL, PARASCHOOL, UNKNOWN, UNPRICED, ean(42)):
        assert world.offer(venue, ref) is None
    # the offers are listed where pros and search find them
    assert len(world.offers.venue_offers(venue.id, 100, None)[0]) == 21

    transactions = counter.calls.count("TransactWriteItems")
    assert transactions <= 21 / 20 + 6  # at most one a page of 5 lines here (≤ 50 lines a transaction)
    stored, _ = world.repository.reports(venue.id, 10, None)
    assert stored == [report]


def test_prices_in_cents_and_the_direct_push(world: World) -> None:
    venue = world.venue("cents", cents=True)
    report = world.run(venue, Feed([{"ref": ean(5), "available": 2, "price": 1250}]))
    assert report.status == ImportStatus.SUCCESS
    assert world.offer(venue, ean(5))[1].price_cents == 1250  # type: ignore[index]

    pushed = world.importer.push(venue, [{"ref": ean(6), "available": 1, "price": "7,5"}, {"ref": "x"}], False, START)
    assert (pushed.provider, pushed.status, pushed.created, pushed.rejected) == ("push", "PARTIAL", 1, {"BAD_EAN": 1})
    assert world.offer(venue, ean(6))[1].price_cents == 750  # type: ignore[index]


def test_a_second_run_writes_only_the_changed_lines_and_an_unchanged_feed_nothing(world: World) -> None:
    venue = world.venue("b")
    lines = valid_lines(200)
    first_counter = count_round_trips(world.client)
    first = world.run(venue, Feed(lines, page_size=100))
    assert first.created == 200
    # 2 operations a line, 100 a transaction: 4 for 200 lines, and 1 for the end of the run (report + venue)
    assert first_counter.calls.count("TransactWriteItems") == 4 + 1
    first_start = first.started_at

    world.clock.advance(timedelta(days=1))
    changed = [dict(line) for line in lines]
    changed[3]["available"] += 5
    changed[50]["price"] = 2.5
    changed.append({"ref": ean(250), "available": 3, "price": 8})
    feed = Feed(changed, page_size=100)
    counter = count_round_trips(world.client)
    second = world.run(venue, feed)
    assert (second.created, second.updated, second.unchanged, second.status) == (1, 2, 198, "SUCCESS")
    assert feed.calls == [(None, first_start)]  # modifiedSince = the start of the last successful run
    assert counter.calls.count("TransactWriteItems") == 2 + 1  # one a page that changed something, and the end
    assert world.offer(venue, ean(4))[1].quantity == lines[3]["available"] + 5  # type: ignore[index]
    assert world.offer(venue, ean(51))[1].price_cents == 250  # type: ignore[index]

    world.clock.advance(timedelta(days=1))
    counter.reset()
    third = world.run(venue, Feed(changed, page_size=100))
    assert (third.created, third.updated, third.unchanged) == (0, 0, 201)
    assert counter.calls.count("TransactWriteItems") == 1  # the end of the run only: no offer nor stock written
    assert "BatchWriteItem" not in counter.calls
    assert writes(counter) == 1 + 3 + 1  # the report: created, 3 page checkpoints, the end


def test_a_booking_between_two_runs_keeps_its_place(world: World) -> None:
    venue = world.venue("c")
    lines = valid_lines(10)
    world.run(venue, Feed(lines))
    _, stock = world.offer(venue, ean(2)) or pytest.fail("no offer")
    _, untouched = world.offer(venue, ean(3)) or pytest.fail("no offer")
    for booked in (stock, untouched):
        world.table.update(stock_key(booked.id), Expression("SET bookedQuantity = :two", values={":two": 2}))

    changed = [dict(line) for line in lines]
    changed[1]["available"] = 1  # the shop sold some: 1 left on its shelf
    world.clock.advance(timedelta(days=1))
    report = world.run(venue, Feed(changed))
    assert (report.updated, report.unchanged) == (1, 9)
    _, after = world.offer(venue, ean(2)) or pytest.fail("no offer")
    assert (after.quantity, after.booked_quantity, after.remaining_quantity) == (1 + 2, 2, 1)
    # an unchanged line writes nothing: its quantity stays what it was, never below booked
    assert world.offer(venue, ean(3))[1].quantity == untouched.quantity  # type: ignore[index]


def test_an_interrupted_run_resumes_from_its_checkpoint_and_ends_as_an_uninterrupted_one(world: World) -> None:
    lines = valid_lines(30) + faulty_lines()
    straight_venue, resumed_venue = world.venue("straight"), world.venue("resumed")
    straight = world.run(straight_venue, Feed(lines))

    deadline = iter([False, True])  # the deadline is reached after the second page: the worker re-queues itself
    paused = world.run(resumed_venue, Feed(lines), lambda: next(deadline))
    assert (paused.status, paused.pages) == (ImportStatus.RUNNING, 2)

    killed_feed = Feed(lines, fail_after=3)
    killed_feed.error = WorkerKilled()
    with pytest.raises(WorkerKilled):  # killed after 3 more pages: not a provider failure
        world.run(resumed_venue, killed_feed)
    assert killed_feed.calls == [(paused.after, None)]
    checkpoint = world.repository.latest_report(resumed_venue.id)
    assert checkpoint is not None and (checkpoint.status, checkpoint.pages) == (ImportStatus.RUNNING, 5)

    resumed_feed = Feed(lines)
    resumed = world.run(resumed_venue, resumed_feed)
    assert resumed_feed.calls == [(checkpoint.after, None)]
    assert resumed.run_id == paused.run_id

    def counts(report: ImportReport) -> dict[str, Any]:
        return report.model_dump(include={"status", "pages", "read", "created", "updated", "unchanged", "skipped",
                                          "rejected", "rejected_lines", "after"})  # fmt: skip

    assert counts(resumed) == counts(straight)
    for line in lines:
        ref = str(line.get("ref"))
        a, b = world.offer(straight_venue, ref), world.offer(resumed_venue, ref)
        assert (a is None) == (b is None)
        if a and b:
            assert (a[1].quantity, a[1].price_cents) == (b[1].quantity, b[1].price_cents)
    assert len(world.repository.reports(resumed_venue.id, 10, None)[0]) == 1


def test_a_provider_failure_marks_the_run_failed_and_is_raised_again(world: World) -> None:
    venue = world.venue("d")
    with pytest.raises(ProviderDown):
        world.run(venue, Feed(valid_lines(), fail_after=1))
    failed = world.repository.latest_report(venue.id)
    assert failed is not None
    assert (failed.status, failed.failure, failed.failure_detail, failed.created) == (
        ImportStatus.FAILED, "HTTP_5XX", "503 from the provider", 5,
    )  # fmt: skip
    state = world.repository.import_venue(venue.id)
    assert state is not None and state.last_import_started_at is None  # a failed run is no `modifiedSince`

    world.clock.advance(timedelta(hours=1))
    feed = Feed(valid_lines())
    again = world.run(venue, feed)  # a new run, from the start (nothing to resume)
    assert again.run_id != failed.run_id and feed.calls == [(None, None)]
    assert (again.created, again.unchanged) == (15, 5)


def test_a_provider_failure_before_the_last_attempt_keeps_the_run_to_resume(world: World) -> None:
    """SQS delivers the message again (up to `MAX_RECEIVES`): the retry resumes the run from its checkpoint, and
    only the last attempt marks it FAILED, so the venue is emailed once, not once per retry."""
    venue = world.venue("d2")
    with pytest.raises(ProviderDown):
        world.importer.run(venue.id, START, Feed(valid_lines(), fail_after=2), lambda: False, last_attempt=False)
    kept = world.repository.latest_report(venue.id)
    assert kept is not None and (kept.status, kept.pages, kept.created, kept.failure) == ("RUNNING", 2, 10, None)

    feed = Feed(valid_lines())
    resumed = world.importer.run(venue.id, START, feed, lambda: False, last_attempt=False)
    assert resumed.run_id == kept.run_id and feed.calls == [(kept.after, None)]
    assert (resumed.status, resumed.created, resumed.pages) == ("SUCCESS", 20, 4)


def test_the_last_attempt_is_the_queues_max_receive_count() -> None:
    from infra.local.template import load_template
    from pass_culture.stock_import.queue import MAX_RECEIVES

    queue = load_template()["Resources"]["StockImportQueue"]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == MAX_RECEIVES


def test_write_conflicts_and_throttling_are_retried_with_backoff(world: World) -> None:
    venue = world.venue("e")
    real = world.repository.transact
    failures = iter(
        [
            TransactionCancelled([{"Code": "TransactionConflict"}]),
            Throttled("a transaction cancelled for capacity"),  # what Table.transact raises for ThrottlingError
        ]
    )

    def flaky(operations: list[Any]) -> None:
        error = next(failures, None)
        if error is not None:
            raise error
        real(operations)

    world.repository.transact = flaky  # type: ignore[method-assign]
    report = world.run(venue, Feed(valid_lines(3)))
    assert report.created == 3 and world.sleeps == [0.05, 0.1]


def test_reports_newest_first_with_a_cursor(world: World) -> None:
    venue = world.venue("f")
    for day in range(3):
        at = START + timedelta(days=day)
        world.importer.push(venue, [{"ref": ean(day + 1), "available": day + 1, "price": 5}], False, at)
    first_page = world.importer.reports(venue.id, limit=2)
    assert [item["startedAt"][:10] for item in first_page["items"]] == ["2025-03-03", "2025-03-02"]
    rest = world.importer.reports(venue.id, limit=2, cursor=first_page["nextCursor"])
    assert [item["startedAt"][:10] for item in rest["items"]] == ["2025-03-01"]


def test_connected_venues_are_listed_by_an_index_and_disconnecting_keeps_the_offers(world: World) -> None:
    kept, dropped = world.venue("g"), world.venue("h")
    world.run(dropped, Feed(valid_lines(2)))
    counter = count_round_trips(world.client)
    assert sorted(world.importer.connected_venues()) == [kept.id, dropped.id]
    assert counter.calls == ["Query"]

    world.importer.disconnect(dropped.id)
    assert world.importer.connected_venues() == [kept.id]
    assert world.offer(dropped, ean(1)) is not None
    with pytest.raises(VenueNotConnected):
        world.run(dropped, Feed(valid_lines(2)))
    state = world.repository.import_venue(kept.id)
    assert state is not None and state.connection is not None
    assert (state.connection.provider, state.connection.token, state.connection.prices_in_cents) == (
        "titelive", "tok", False,
    )  # fmt: skip
    assert state.venue.name == "Librairie g"


def test_write_calls_per_changed_line(world: World) -> None:
    """The figures of issue 10: TransactWriteItems calls per changed line, first import and unchanged feed."""
    venue = world.venue("bench")
    books = [{"ean": ean(10_000 + n), "title": f"Bench {n}", "clil": "3435"} for n in range(300)]
    world.table.put_many([{**book_key(b["ean"]), "entity": "BOOK", **b} for b in books])
    lines = [{"ref": b["ean"], "available": 3, "price": 9.9} for b in books]
    counter = count_round_trips(world.client)
    first = world.run(venue, Feed(lines, page_size=1000))
    first_writes = counter.calls.count("TransactWriteItems")
    assert first.created == 300 and first_writes / 300 <= 1 / 20
    counter.reset()
    again = world.run(venue, Feed(lines, page_size=1000))
    assert again.unchanged == 300 and counter.calls.count("TransactWriteItems") == 1  # the end of the run only
    print(f"first import: {first_writes} TransactWriteItems for 2000 changed lines ({first_writes / 300:.4f}/line)")


def test_the_worker_requeues_a_venue_it_has_not_finished_and_skips_one_no_longer_connected(
    world: World, moto_stack: Any
) -> None:
    from pass_culture.stock_import.queue import ImportQueue, ImportRequest, parse_request
    from pass_culture.stock_import.worker import import_venue

    sqs = boto3.client("sqs", region_name="eu-west-3")
    queue = ImportQueue(sqs, moto_stack.ref("StockImportQueue"))
    venue = world.venue("w")
    feed = Feed(valid_lines(), page_size=5)
    deadline = iter([False, True])  # the deadline nears after the second page
    request = ImportRequest(venue_id=venue.id, time=START)

    def pages(connection: Any, siret: str, *, after: str | None, modified_since: Any) -> Any:
        assert (connection.base_url, connection.token, siret) == ("https://provider.example/stocks", "tok", venue.siret)
        return feed(after, modified_since)

    paused = import_venue(world.importer, queue, request, deadline_reached=lambda: next(deadline), feed_pages=pages)
    assert (paused["status"], paused["pages"]) == ("RUNNING", 2)
    (message,) = sqs.receive_message(QueueUrl=moto_stack.ref("StockImportQueue"))["Messages"]
    assert parse_request(message["Body"]) == request  # the same venue and schedule time: the next worker resumes

    done = import_venue(world.importer, queue, request, deadline_reached=lambda: False, feed_pages=pages)
    assert (done["runId"], done["status"], done["created"]) == (paused["runId"], "SUCCESS", 20)

    world.importer.disconnect(venue.id)
    assert import_venue(world.importer, queue, request, deadline_reached=lambda: False, feed_pages=pages) == {
        "venueId": venue.id, "status": "NOT_CONNECTED",
    }  # fmt: skip


def test_the_reports_say_how_the_venue_is_connected_never_its_token(world: World) -> None:
    from pass_culture.stock_import.venues import StockImportVenues

    venues = StockImportVenues(world.importer, world.clock, allow_loopback_providers=False)
    venue = world.venue("i")
    world.importer.push(venue, [{"ref": ean(1), "available": 2, "price": 5}], False, START)
    counter = count_round_trips(world.client)
    answer = venues.reports(venue.id, 20, None)
    assert counter.calls == ["GetItem", "Query"]  # the venue (with its connection), then its reports
    assert [item["provider"] for item in answer["items"]] == ["push"]
    assert answer["connection"] == {
        "provider": "titelive",
        "baseUrl": "https://provider.example/stocks",
        "pricesInCents": False,
        "connectedAt": "2025-03-01T00:00:00.000Z",
        "hasToken": True,
    }
    assert "tok" not in str(answer)

    world.importer.disconnect(venue.id)
    assert venues.reports(venue.id, 20, None)["connection"] is None
