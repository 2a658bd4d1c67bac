"""The daily jobs' own rules (domain.md, "Automatic validation" and "Bookings → Expiry"): which days of the due
index a run reads, and why a candidate it read was left alone. Pure. When a booking falls due is
`bookings.rules.due`; where it sits in the index is `bookings.repository.due_index_keys`.

A job remembers the last day it read whole (`done_through`); a run reads every day after it, up to its own, so a
day the job did not run is caught up by the next run. Handled bookings leave the index: nothing old is read twice."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pass_culture.bookings.rules import BOOK_EXPIRY_REMINDER_BEFORE, EXPIRY_REMINDER_BEFORE, event_due
from pass_culture.clock import isoformat, paris_date

FIRST_RUN_LOOKBACK_DAYS = 31  # a job with no memory (first deployment) reads the month before its day
MAX_CATCH_UP_DAYS = 400  # a job stopped for longer reads back this far at most (and the report says from when)
IN_PROCESS_LIMIT = 2_000  # candidates a run handles itself; above, the rest goes to the worker through SQS
CHUNK_SIZE = 200  # candidates per SQS message (about 300 bytes each: far below SQS's 256 KB)
AUTO = "AUTO"  # the validation author of the job


class Job(StrEnum):
    AUTO_VALIDATE = "auto-validate-bookings"
    EXPIRE = "expire-bookings"


class Action(StrEnum):
    VALIDATE = "VALIDATE"
    EXPIRE = "EXPIRE"
    REMIND = "REMIND"


DONE_FIGURE = {Action.VALIDATE: "validated", Action.EXPIRE: "expired", Action.REMIND: "reminded"}


@dataclass(frozen=True)
class Reading:
    """What a run reads: the days of the index (the first and last), and the day it can then say it read whole."""

    days: tuple[date, ...]
    done_through: date


def _days(done_through: date | None, last: date) -> tuple[date, ...]:
    first = done_through + timedelta(days=1) if done_through else last - timedelta(days=FIRST_RUN_LOOKBACK_DAYS)
    first = max(first, last - timedelta(days=MAX_CATCH_UP_DAYS))
    return tuple(first + timedelta(days=n) for n in range((last - first).days + 1))


def auto_validation_reading(done_through: date | None, now: datetime) -> Reading:
    """Every day up to today; today's only up to now (the index sorts a day by when the rule is met), so today is
    read again, for what falls due later in it, by tomorrow's run."""
    today = paris_date(now)
    return Reading(_days(done_through, today), today - timedelta(days=1))


def expiry_reading(done_through: date | None, now: datetime) -> Reading:
    """Every day up to today, whole: an expiry day's bookings all expired by its 00:00 (`expiry_run_day`)."""
    today = paris_date(now)
    return Reading(_days(done_through, today), today)


def reminder_expiry_days(now: datetime) -> tuple[date, ...]:
    """The expiry days whose reminders may be due by today: the coming week. Within each, the index sorts by reminder
    day, and a run reads those due by today not yet sent (so a missed day is caught up too)."""
    today = paris_date(now)
    longest = max(EXPIRY_REMINDER_BEFORE, BOOK_EXPIRY_REMINDER_BEFORE).days
    return tuple(today + timedelta(days=n) for n in range(1, longest + 1))


def event_moved(booked_start: datetime | None, current_start: datetime | None, now: datetime) -> datetime | None:
    """The event's new start when the venue moved it since the booking and it is not 48 h past yet (the booking
    is then due again later); None when the booking may be validated now."""
    if booked_start is None or current_start is None or current_start == booked_start:
        return None
    return current_start if event_due(current_start).at > now else None


def skip_reason(action: Action, current: Mapping[str, Any] | None, now: datetime) -> str | None:
    """Why a conditional write found the booking changed since the index was read; None when this very run (a chunk
    delivered twice) had already done it, which then counts as done, once."""
    if current is None:
        return "GONE"
    at, status = isoformat(now), current.get("status")
    if action is Action.VALIDATE and status == "USED" and current.get("validationAuthor") == AUTO:
        return None if current.get("usedAt") == at else "ALREADY_VALIDATED"
    if action is Action.EXPIRE and status == "CANCELLED" and current.get("cancellationReason") == "EXPIRED":
        return None if current.get("cancelledAt") == at else "ALREADY_EXPIRED"
    if action is Action.REMIND and current.get("expiryReminderSentAt"):
        return None if current.get("expiryReminderSentAt") == at else "ALREADY_REMINDED"
    if status in ("USED", "REIMBURSED"):
        return "VALIDATED_AT_COUNTER"
    if status == "CANCELLED":
        return "CANCELLED"
    return "NO_LONGER_DUE"  # still CONFIRMED, but moved in the index (a validation undone, a date changed)
