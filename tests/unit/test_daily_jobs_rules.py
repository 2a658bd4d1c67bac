"""Which days the daily jobs read, and why a candidate was left alone (pass_culture/daily_jobs/rules.py)."""

from datetime import date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from pass_culture.clock import PARIS, isoformat
from pass_culture.daily_jobs.rules import (
    FIRST_RUN_LOOKBACK_DAYS,
    MAX_CATCH_UP_DAYS,
    Action,
    auto_validation_reading,
    event_moved,
    expiry_reading,
    reminder_expiry_days,
    skip_reason,
)

RUN = datetime(2026, 11, 23, 3, 0, tzinfo=PARIS)
TODAY = date(2026, 11, 23)


def test_a_job_that_ran_yesterday_reads_today_only_and_one_that_missed_days_reads_them_too() -> None:
    assert expiry_reading(TODAY - timedelta(days=1), RUN).days == (TODAY,)
    missed = expiry_reading(TODAY - timedelta(days=5), RUN)
    assert missed.days == tuple(TODAY - timedelta(days=n) for n in (4, 3, 2, 1, 0)) and missed.done_through == TODAY
    assert expiry_reading(TODAY, RUN).days == ()  # the same day replayed reads nothing more


def test_auto_validation_reads_today_up_to_now_and_so_reads_it_again_tomorrow() -> None:
    today = auto_validation_reading(TODAY - timedelta(days=1), RUN)
    assert today.days == (TODAY,) and today.done_through == TODAY - timedelta(days=1)
    tomorrow = auto_validation_reading(today.done_through, RUN + timedelta(days=1))
    assert tomorrow.days == (TODAY, TODAY + timedelta(days=1))


def test_a_job_with_no_memory_reads_a_month_back_and_one_stopped_for_years_a_bounded_span() -> None:
    assert len(expiry_reading(None, RUN).days) == FIRST_RUN_LOOKBACK_DAYS + 1
    assert len(expiry_reading(date(2020, 1, 1), RUN).days) == MAX_CATCH_UP_DAYS + 1


@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 1, 1)), st.integers(0, 60))
def test_consecutive_runs_read_every_day_once(first: date, gap: int) -> None:
    """However the runs are spaced, the days read by a run follow those read whole by the one before."""
    now = datetime(first.year, first.month, first.day, 0, 30, tzinfo=PARIS)
    reading = expiry_reading(first - timedelta(days=1), now)
    later = now + timedelta(days=gap)
    next_reading = expiry_reading(reading.done_through, later)
    read = reading.days + next_reading.days
    assert read == tuple(first + timedelta(days=n) for n in range(gap + 1))


def test_reminders_look_a_week_ahead() -> None:
    assert reminder_expiry_days(RUN) == tuple(TODAY + timedelta(days=n) for n in range(1, 8))


def test_why_a_candidate_was_left_alone() -> None:
    at = isoformat(RUN)
    assert skip_reason(Action.VALIDATE, None, RUN) == "GONE"
    assert skip_reason(Action.VALIDATE, {"status": "USED", "validationAuthor": "PRO:x"}, RUN) == "VALIDATED_AT_COUNTER"
    assert skip_reason(Action.VALIDATE, {"status": "USED", "validationAuthor": "AUTO", "usedAt": at}, RUN) is None
    assert skip_reason(Action.VALIDATE, {"status": "USED", "validationAuthor": "AUTO", "usedAt": "x"}, RUN) == (
        "ALREADY_VALIDATED"
    )
    assert skip_reason(Action.EXPIRE, {"status": "CANCELLED", "cancellationReason": "BENEFICIARY"}, RUN) == "CANCELLED"
    assert (
        skip_reason(Action.EXPIRE, {"status": "CANCELLED", "cancellationReason": "EXPIRED", "cancelledAt": at}, RUN)
        is None
    )
    assert skip_reason(Action.EXPIRE, {"status": "REIMBURSED"}, RUN) == "VALIDATED_AT_COUNTER"
    assert skip_reason(Action.REMIND, {"status": "CONFIRMED", "expiryReminderSentAt": "x"}, RUN) == "ALREADY_REMINDED"
    assert skip_reason(Action.REMIND, {"status": "CONFIRMED", "expiryReminderSentAt": at}, RUN) is None
    assert skip_reason(Action.REMIND, {"status": "CONFIRMED", "expiryReminderSentAt": None}, RUN) == "NO_LONGER_DUE"


def test_an_event_moved_later_is_due_again_after_its_new_start_and_one_moved_earlier_is_due_now() -> None:
    booked_start = RUN - timedelta(days=3)
    assert event_moved(booked_start, booked_start, RUN) is None
    assert event_moved(booked_start, None, RUN) is None  # the stock is gone: the booking's own date stands
    later = RUN + timedelta(days=1)
    assert event_moved(booked_start, later, RUN) == later
    assert event_moved(booked_start, RUN - timedelta(days=2, minutes=1), RUN) is None  # 48 h past already
    assert event_moved(None, later, RUN) is None  # not an event booking
