from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pass_culture.bookings.rules import (
    BookingStatus,
    DueJob,
    cancellation_limit,
    check_beneficiary_can_cancel,
    check_quantity,
    due,
    expiry_date,
)
from pass_culture.credit import Balance, check_can_spend
from pass_culture.errors import BadRequest, Conflict, RuleRefused
from pass_culture.subcategories import BY_ID

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start_in", "limit_after_booking"),
    [
        (timedelta(days=10), timedelta(hours=48)),  # far: 48 h after booking
        (timedelta(days=3), timedelta(hours=24)),  # start − 48 h comes first
        (timedelta(hours=30), timedelta(0)),  # too close: only at the moment of booking
    ],
)
def test_event_cancellation_limit(start_in: timedelta, limit_after_booking: timedelta) -> None:
    assert cancellation_limit(NOW, NOW + start_in) == NOW + limit_after_booking


@given(booked=st.datetimes(timezones=st.just(UTC)), lead=st.timedeltas(timedelta(0), timedelta(days=60)))
def test_the_limit_is_never_before_booking_nor_after_48_hours(booked: datetime, lead: timedelta) -> None:
    limit = cancellation_limit(booked, booked + lead)
    assert limit is not None
    assert booked <= limit <= booked + timedelta(hours=48)


def test_things_can_be_cancelled_until_used() -> None:
    assert cancellation_limit(NOW, None) is None
    check_beneficiary_can_cancel(BookingStatus.CONFIRMED, None, NOW + timedelta(days=300))
    for status in (BookingStatus.USED, BookingStatus.REIMBURSED, BookingStatus.CANCELLED):
        with pytest.raises(Conflict):
            check_beneficiary_can_cancel(status, None, NOW)
    with pytest.raises(Conflict):
        check_beneficiary_can_cancel(BookingStatus.CONFIRMED, NOW, NOW + timedelta(seconds=1))


def test_duo_quantities() -> None:
    check_quantity(2, is_duo=True)
    with pytest.raises(BadRequest):
        check_quantity(2, is_duo=False)
    with pytest.raises(BadRequest):
        check_quantity(3, is_duo=True)


def test_books_expire_after_10_days_other_things_after_30_and_events_never() -> None:
    assert expiry_date(BY_ID["LIVRE_PAPIER"], NOW) == NOW + timedelta(days=10)
    assert expiry_date(BY_ID["SUPPORT_PHYSIQUE_FILM"], NOW) == NOW + timedelta(days=30)
    assert expiry_date(BY_ID["CONCERT"], NOW) is None
    assert expiry_date(BY_ID["ABO_BIBLIOTHEQUE"], NOW) is None


def test_which_daily_job_acts_on_a_booking_and_when() -> None:
    assert due(BY_ID["LIVRE_PAPIER"], 890, NOW, None) == (DueJob.EXPIRE, date(2026, 12, 3))
    assert due(BY_ID["ABO_BIBLIOTHEQUE"], 0, NOW, None) == (DueJob.AUTO_VALIDATE, date(2026, 12, 23))
    assert due(BY_ID["ABO_BIBLIOTHEQUE"], 500, NOW, None) is None  # a paid card waits for the counter
    assert due(BY_ID["CONCERT"], 1500, NOW, NOW + timedelta(days=5)) == (DueJob.AUTO_VALIDATE, date(2026, 11, 30))


def model_can_spend(remaining: int, digital_remaining: int, expired: bool, amount: int, digital: bool) -> bool:
    """domain.md in one line: not expired, and free or within what is left (and the digital cap for digital offers)."""
    return not expired and (amount == 0 or (amount <= remaining and (not digital or amount <= digital_remaining)))


@given(
    remaining=st.integers(0, 30000),
    digital_used=st.integers(0, 10000),
    expired=st.booleans(),
    amount=st.integers(0, 60000),
    digital=st.booleans(),
)
def test_credit_rules_agree_with_a_simple_model(
    remaining: int, digital_used: int, expired: bool, amount: int, digital: bool
) -> None:
    digital_remaining = min(remaining, 10000 - digital_used)
    allowed = model_can_spend(remaining, digital_remaining, expired, amount, digital)
    try:
        check_can_spend(Balance(remaining, digital_remaining, expired), amount, digital_capped=digital)
    except (Conflict, RuleRefused):
        assert not allowed
    else:
        assert allowed
