"""Pricing and periods of the payouts (domain.md, "Reimbursement"). Pure.

A booking is priced against its pricing point's revenue of the calendar year (Europe/Paris) *including the booking
itself*, bookings taken in the order max(event date, used date), used date, id; the whole booking takes the rate of
the bracket that revenue falls in — no split across brackets, as the real platform does (pcapi's reimbursement rules:
`20 000 € < revenue <= 40 000 €` is 95 %). Rates are basis points (10 000 = 100 %); money is integer cents and the
one rounding of the payouts is `reimbursed_cents` (half up)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pass_culture.clock import paris_date, paris_midnight
from pass_culture.subcategories import ReimbursementRule

FULL = 10_000  # basis points: 100 %


PricingRule = ReimbursementRule  # a subcategory's rule, or COLLECTIVE for collective bookings


# (upper bound of the yearly revenue in cents, inclusive — None: no bound) -> rate in basis points
BRACKETS: Mapping[PricingRule, tuple[tuple[int | None, int], ...]] = {
    PricingRule.BOOK: ((20_000_00, 10_000), (None, 9_500)),
    PricingRule.STANDARD: ((20_000_00, 10_000), (40_000_00, 9_500), (150_000_00, 9_200), (None, 9_000)),
    PricingRule.NOT_REIMBURSED: ((None, 0),),
    PricingRule.COLLECTIVE: ((None, 10_000),),
}


def rate(rule: PricingRule, revenue_cents: int) -> int:
    """The rate of the bracket the year's revenue (the booking included) falls in."""
    for upper, basis_points in BRACKETS[rule]:
        if upper is None or revenue_cents <= upper:
            return basis_points
    raise AssertionError("the last bracket has no bound")


def reimbursed_cents(amount_cents: int, basis_points: int) -> int:
    """The one rounding of the payouts: half up, to the cent (never more than the amount)."""
    return (amount_cents * basis_points + FULL // 2) // FULL


@dataclass(frozen=True)
class ToPrice:
    booking_id: str
    rule: PricingRule
    amount_cents: int  # the booking's total (price × quantity)
    used_at: datetime
    event_date: datetime | None = None

    @property
    def value_date(self) -> datetime:
        """Where the booking stands in its pricing point's year: the later of its event and its validation."""
        return max(self.used_at, self.event_date) if self.event_date else self.used_at


@dataclass(frozen=True)
class Pricing:
    booking_id: str
    rule: PricingRule
    year: int
    revenue_cents: int  # the pricing point's revenue of the year, this booking included
    rate: int  # basis points
    amount_cents: int
    reimbursed_cents: int


def pricing_order(booking: ToPrice) -> tuple[datetime, datetime, str]:
    return booking.value_date, booking.used_at, booking.booking_id


def price(bookings: Iterable[ToPrice], revenue_by_year: Mapping[int, int]) -> tuple[list[Pricing], dict[int, int]]:
    """Prices a pricing point's bookings in order, each against the year's revenue so far plus itself; answers the
    pricings and the revenue by year after them. Collective bookings have no yearly tiers and count for no revenue."""
    revenue = dict(revenue_by_year)
    priced: list[Pricing] = []
    for booking in sorted(bookings, key=pricing_order):
        year = paris_date(booking.value_date).year
        if booking.rule is PricingRule.COLLECTIVE:
            so_far = revenue.get(year, 0)
        else:
            so_far = revenue[year] = revenue.get(year, 0) + booking.amount_cents
        basis_points = rate(booking.rule, so_far)
        priced.append(Pricing(
            booking.booking_id, booking.rule, year, so_far, basis_points, booking.amount_cents,
            reimbursed_cents(booking.amount_cents, basis_points),
        ))  # fmt: skip
    return priced, revenue


@dataclass(frozen=True)
class Period:
    """A half month: the 1st to the 15th, or the 16th to the month's end; cut at 00:00 Europe/Paris."""

    start: date
    end: date  # exclusive: the first day of the next period

    @property
    def starts_at(self) -> datetime:
        return paris_midnight(self.start)

    @property
    def ends_at(self) -> datetime:
        return paris_midnight(self.end)

    @property
    def label(self) -> str:
        """As on the transfers: "1ère quinzaine 11-2026" / "2nde quinzaine 11-2026"."""
        half = "1ère quinzaine" if self.start.day == 1 else "2nde quinzaine"
        return f"{half} {self.start.month:02d}-{self.start.year}"


def period_ending_before(run_time: datetime) -> Period:
    """The period that ended last before the run (the job runs on the 1st and the 16th, Paris time)."""
    today = paris_date(run_time)
    if today.day >= 16:
        return Period(today.replace(day=1), today.replace(day=16))
    previous_month_end = today.replace(day=1)
    start = (previous_month_end - timedelta(days=1)).replace(day=16)
    return Period(start, previous_month_end)
