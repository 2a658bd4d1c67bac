"""The payouts' pricing and periods (pass_culture/payouts/rules.py): the thresholds, table by table, and the laws."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pass_culture.clock import PARIS
from pass_culture.payouts.rules import (
    FULL,
    Period,
    PricingRule,
    ToPrice,
    period_ending_before,
    price,
    rate,
    reimbursed_cents,
)

USED = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("rule", "revenue_euros", "expected"),
    [
        (PricingRule.BOOK, "19999.99", 10_000),
        (PricingRule.BOOK, "20000.00", 10_000),
        (PricingRule.BOOK, "20000.01", 9_500),
        (PricingRule.BOOK, "40000.01", 9_500),
        (PricingRule.BOOK, "150000.01", 9_500),
        (PricingRule.STANDARD, "19999.99", 10_000),
        (PricingRule.STANDARD, "20000.00", 10_000),
        (PricingRule.STANDARD, "20000.01", 9_500),
        (PricingRule.STANDARD, "40000.00", 9_500),
        (PricingRule.STANDARD, "40000.01", 9_200),
        (PricingRule.STANDARD, "150000.00", 9_200),
        (PricingRule.STANDARD, "150000.01", 9_000),
        (PricingRule.NOT_REIMBURSED, "10.00", 0),
        (PricingRule.COLLECTIVE, "999999.99", 10_000),
    ],
)
def test_the_rate_at_each_threshold(rule: PricingRule, revenue_euros: str, expected: int) -> None:
    euros, cents = revenue_euros.split(".")
    assert rate(rule, int(euros) * 100 + int(cents)) == expected


def test_the_whole_booking_takes_the_rate_of_the_revenue_it_reaches() -> None:
    """19 990 € already, then a 20 € book: 20 010 € → the whole book at 95 %, as the real platform does."""
    book = ToPrice("b1", PricingRule.BOOK, 20_00, USED)
    (pricing,), revenue = price([book], {2026: 19_990_00})
    assert (pricing.revenue_cents, pricing.rate, pricing.reimbursed_cents) == (20_010_00, 9_500, 19_00)
    assert revenue == {2026: 20_010_00}


def test_bookings_are_priced_in_the_order_of_their_value_date_then_validation_then_id() -> None:
    later_event = ToPrice("a", PricingRule.STANDARD, 10_00, USED, event_date=USED + timedelta(days=2))
    used_first = ToPrice("z", PricingRule.STANDARD, 10_00, USED - timedelta(hours=1))
    same_time = ToPrice("m", PricingRule.STANDARD, 10_00, USED - timedelta(hours=1))
    priced, _ = price([later_event, used_first, same_time], {})
    assert [p.booking_id for p in priced] == ["m", "z", "a"]
    assert [p.revenue_cents for p in priced] == [10_00, 20_00, 30_00]


def test_the_revenue_restarts_on_the_first_of_january_paris_time() -> None:
    new_year_paris = datetime(2027, 1, 1, 0, 30, tzinfo=PARIS)  # still 31/12 in UTC
    priced, revenue = price([ToPrice("b", PricingRule.BOOK, 30_00, new_year_paris)], {2026: 25_000_00})
    assert (priced[0].year, priced[0].revenue_cents, priced[0].rate) == (2027, 30_00, FULL)
    assert revenue == {2026: 25_000_00, 2027: 30_00}


def test_a_collective_booking_has_no_tiers_and_counts_for_no_revenue() -> None:
    (pricing,), revenue = price([ToPrice("c", PricingRule.COLLECTIVE, 500_00, USED)], {2026: 200_000_00})
    assert (pricing.rate, pricing.reimbursed_cents, revenue[2026]) == (FULL, 500_00, 200_000_00)


def test_the_rounding_is_half_up_to_the_cent() -> None:
    assert reimbursed_cents(1, 9_500) == 1  # 0,95 cent → 1
    assert reimbursed_cents(10, 9_500) == 10  # 9,5 cents → 10
    assert reimbursed_cents(9, 9_500) == 9  # 8,55 → 9
    assert reimbursed_cents(1_234, 9_200) == 1_135  # 1 135,28 → 1 135


revenues = st.integers(min_value=0, max_value=10**9)
rules = st.sampled_from(list(PricingRule))


@given(rules, revenues, revenues)
def test_the_rate_never_rises_with_revenue_and_never_exceeds_100_percent(rule: PricingRule, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert 0 <= rate(rule, high) <= rate(rule, low) <= FULL


amounts = st.integers(min_value=0, max_value=300_00 * 2)


@given(st.lists(st.tuples(rules, amounts, st.integers(0, 60 * 24 * 400)), max_size=60), revenues)
def test_a_payout_never_exceeds_the_bookings_total(bookings: list[tuple[PricingRule, int, int]], before: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    to_price = [ToPrice(f"b{n}", r, amount, start + timedelta(minutes=m)) for n, (r, amount, m) in enumerate(bookings)]
    priced, _ = price(to_price, {2026: before})
    assert sum(p.reimbursed_cents for p in priced) <= sum(b.amount_cents for b in to_price)
    assert all(0 <= p.reimbursed_cents <= p.amount_cents for p in priced)


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        (datetime(2026, 11, 16, 2, 0, tzinfo=PARIS), Period(date(2026, 11, 1), date(2026, 11, 16))),
        (datetime(2026, 12, 1, 2, 0, tzinfo=PARIS), Period(date(2026, 11, 16), date(2026, 12, 1))),
        (datetime(2027, 1, 1, 2, 0, tzinfo=PARIS), Period(date(2026, 12, 16), date(2027, 1, 1))),
        (datetime(2026, 3, 1, 2, 0, tzinfo=PARIS), Period(date(2026, 2, 16), date(2026, 3, 1))),
        (datetime(2026, 11, 30, 23, 30, tzinfo=UTC), Period(date(2026, 11, 16), date(2026, 12, 1))),  # 1st in Paris
    ],
)
def test_the_period_that_just_ended(run: datetime, expected: Period) -> None:
    assert period_ending_before(run) == expected


def test_the_period_labels_of_the_transfers() -> None:
    assert Period(date(2026, 11, 1), date(2026, 11, 16)).label == "1ère quinzaine 11-2026"
    assert Period(date(2026, 11, 16), date(2026, 12, 1)).label == "2nde quinzaine 11-2026"
    assert Period(date(2026, 11, 1), date(2026, 11, 16)).ends_at == datetime(2026, 11, 16, tzinfo=PARIS)
