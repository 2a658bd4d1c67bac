"""Pricing a pricing point for a period (pass_culture/payouts/pricing.py): against the year's revenue, stored once,
never recomputed; a crash between two transactions resumes to what a clean run prices."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pass_culture.bookings.repository import BookingsRepository
from pass_culture.counter.repository import CounterRepository
from pass_culture.dynamo import Operation
from pass_culture.payouts import repository as payouts_repository
from pass_culture.payouts.pricing import Pricer
from pass_culture.payouts.repository import PayoutsRepository, revenue_key
from pass_culture.payouts.rules import Period, period_ending_before
from tests.integration.booking_world import World, world  # noqa: F401 - the fixture
from tests.integration.test_daily_jobs import book, day


def validated_books(world: World, count: int, price_cents: int, n_day: int) -> list[str]:  # noqa: F811
    stock = world.offer("LIVRE_PAPIER", price_cents, quantity=count + 1)
    ids = [book(world, world.young(), stock, day(n_day)) for _ in range(count)]
    bookings, counter = BookingsRepository(world.table), CounterRepository(world.table)
    for n, booking_id in enumerate(ids):
        found = bookings.get(booking_id)
        assert found is not None
        counter.use(found, "PRO:pro", day(n_day, timedelta(hours=1, minutes=n)))
    return ids


def period_after(n_day: int) -> Period:
    return period_ending_before(day(n_day) + timedelta(days=20))


def test_the_book_that_crosses_20_000_euros_is_priced_whole_at_95_percent_and_once(world: World) -> None:  # noqa: F811
    first, second = validated_books(world, 2, 2000, 1)
    pricing_point = world.venue_id
    period = period_after(1)
    year = day(1).year
    world.table.put({**revenue_key(pricing_point, year), "revenueCents": 19_990_00})
    pricer = Pricer(PayoutsRepository(world.table))

    priced = pricer.price_point(pricing_point, period, day(30))
    assert [(p.booking_id, p.revenue_cents, p.rate, p.reimbursed_cents) for p in priced.new] == [
        (first, 20_010_00, 9_500, 19_00),
        (second, 20_030_00, 9_500, 19_00),
    ]
    assert world.table.get(revenue_key(pricing_point, year))["revenueCents"] == 20_030_00  # type: ignore[index]

    again = pricer.price_point(pricing_point, period, day(31))
    assert again.new == [] and sorted(item["id"] for item in again.earlier) == sorted([first, second])
    assert world.table.get(revenue_key(pricing_point, year))["revenueCents"] == 20_030_00  # type: ignore[index]


def test_an_event_not_yet_played_waits_and_a_free_booking_is_priced_at_zero(world: World) -> None:  # noqa: F811
    period = period_after(1)
    concert = world.offer("CONCERT", 1500, quantity=5, days=60)
    played_later = book(world, world.young(), concert, day(0))
    card = book(world, world.young(), world.offer("ABO_BIBLIOTHEQUE", 0, quantity=None), day(0))
    bookings, counter = BookingsRepository(world.table), CounterRepository(world.table)
    for booking_id in (played_later, card):
        found = bookings.get(booking_id)
        assert found is not None
        counter.use(found, "PRO:pro", day(1))
    priced = Pricer(PayoutsRepository(world.table)).price_point(world.venue_id, period, day(30))
    assert priced.waiting_for_event == [played_later]
    assert [(p.booking_id, p.amount_cents, p.reimbursed_cents) for p in priced.new] == [(card, 0, 0)]


class CrashAfterFirstTransaction(PayoutsRepository):
    def __init__(self, world: World) -> None:  # noqa: F811
        super().__init__(world.table)
        self.transactions = 0

    def _transact(self, operations: list[Operation]) -> None:
        if self.transactions == 1:
            raise RuntimeError("the function died here")
        self.transactions += 1
        super()._transact(operations)


def test_a_crash_between_two_transactions_resumes_to_a_clean_runs_pricing(
    world: World,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(payouts_repository, "TRANSACTION_BOOKINGS", 2)
    ids = validated_books(world, 5, 5_000_00 // 100, 1)  # 50 € each
    period = period_after(1)
    with pytest.raises(RuntimeError):
        Pricer(CrashAfterFirstTransaction(world)).price_point(world.venue_id, period, day(30))
    resumed = Pricer(PayoutsRepository(world.table)).price_point(world.venue_id, period, day(30))
    assert len(resumed.earlier) == 2 and len(resumed.new) == 3
    stored = {booking_id: world.table.get({"PK": f"BOOKING#{booking_id}", "SK": "BOOKING"}) for booking_id in ids}
    revenues = sorted(item["pricing"]["revenueCents"] for item in stored.values() if item)
    assert revenues == [50_00, 100_00, 150_00, 200_00, 250_00]  # each counted once, in order
    assert world.table.get(revenue_key(world.venue_id, day(1).year))["revenueCents"] == 250_00  # type: ignore[index]
