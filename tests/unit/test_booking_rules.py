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
    expiry_run_day,
)
from pass_culture.clock import paris_midnight
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
    book = due(BY_ID["LIVRE_PAPIER"], 890, NOW, None)
    assert book is not None and (book.job, book.at) == (DueJob.EXPIRE, NOW + timedelta(days=10))
    # booked at 13:00 Paris on 23/11: not expired by 03/12 00:00, so the 00:30 run of 04/12 cancels it
    assert book.day == date(2026, 12, 4)
    assert book.reminder_day == date(2026, 11, 29)  # books: 5 days before
    film = due(BY_ID["SUPPORT_PHYSIQUE_FILM"], 1500, NOW, None)
    assert film is not None and (film.day, film.reminder_day) == (date(2026, 12, 24), date(2026, 12, 17))
    card = due(BY_ID["ABO_BIBLIOTHEQUE"], 0, NOW, None)
    assert card is not None and (card.job, card.day, card.at) == (
        DueJob.AUTO_VALIDATE,
        date(2026, 12, 23),
        NOW + timedelta(days=30),
    )
    assert card.reminder_day is None
    assert due(BY_ID["ABO_BIBLIOTHEQUE"], 500, NOW, None) is None  # a paid card waits for the counter
    concert = due(BY_ID["CONCERT"], 1500, NOW, NOW + timedelta(days=5))
    assert concert is not None and (concert.job, concert.day) == (DueJob.AUTO_VALIDATE, date(2026, 11, 30))


def test_a_booking_made_at_midnight_expires_on_the_run_of_its_tenth_day() -> None:
    midnight = paris_midnight(date(2026, 11, 23))
    book = due(BY_ID["LIVRE_PAPIER"], 890, midnight, None)
    assert book is not None and (book.day, book.reminder_day) == (date(2026, 12, 3), date(2026, 11, 28))


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)))
def test_the_expiry_run_day_is_the_first_paris_midnight_at_or_after_expiry(expires: datetime) -> None:
    day = expiry_run_day(expires)
    assert paris_midnight(day) >= expires > paris_midnight(day - timedelta(days=1))


def test_a_due_moves_forward_only() -> None:
    card = due(BY_ID["ABO_BIBLIOTHEQUE"], 0, NOW, None)
    assert card is not None
    assert card.not_before(date(2026, 12, 30)).day == date(2026, 12, 30)
    assert card.not_before(date(2026, 12, 1)) == card


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
