"""Pure booking rules (domain.md, "Bookings", "Automatic validation")."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from pass_culture.clock import paris_date, paris_midnight
from pass_culture.errors import BadRequest, Conflict
from pass_culture.subcategories import Subcategory

EVENT_CANCELLATION_DELAY = timedelta(hours=48)
EXPIRY_DELAY = timedelta(days=30)
BOOK_EXPIRY_DELAY = timedelta(days=10)
EXPIRY_REMINDER_BEFORE = timedelta(days=7)
BOOK_EXPIRY_REMINDER_BEFORE = timedelta(days=5)
FREE_CARD_AUTO_VALIDATION_DELAY = timedelta(days=30)
EVENT_AUTO_VALIDATION_DELAY = timedelta(hours=48)


class BookingStatus(StrEnum):
    CONFIRMED = "CONFIRMED"
    USED = "USED"
    CANCELLED = "CANCELLED"
    REIMBURSED = "REIMBURSED"


class CancellationReason(StrEnum):
    BENEFICIARY = "BENEFICIARY"
    OFFERER = "OFFERER"
    EXPIRED = "EXPIRED"


class DueJob(StrEnum):
    """The daily job that will act on a CONFIRMED booking (docs/data-model.md, GSI3 `DUE#<job>#<day>`)."""

    EXPIRE = "EXPIRE"
    AUTO_VALIDATE = "AUTO_VALIDATE"


def check_quantity(quantity: int, is_duo: bool) -> None:
    if quantity not in (1, 2):
        raise BadRequest("quantity is 1, or 2 for a duo offer.", code="BAD_REQUEST", details=[{"field": "quantity"}])
    if quantity == 2 and not is_duo:
        raise BadRequest(
            "This offer cannot be booked as a duo.", code="DUO_NOT_ALLOWED", details=[{"field": "quantity"}]
        )


def cancellation_limit(booked_at: datetime, event_start: datetime | None) -> datetime | None:
    """Until when the beneficiary may cancel: things until used (None); events until
    max(booked at, min(booked at + 48 h, start − 48 h))."""
    if event_start is None:
        return None
    return max(booked_at, min(booked_at + EVENT_CANCELLATION_DELAY, event_start - EVENT_CANCELLATION_DELAY))


def check_beneficiary_can_cancel(status: BookingStatus, limit: datetime | None, now: datetime) -> None:
    if status in (BookingStatus.USED, BookingStatus.REIMBURSED):
        raise Conflict("This booking has been used: it cannot be cancelled.", code="BOOKING_USED")
    if status is BookingStatus.CANCELLED:
        raise Conflict("This booking is already cancelled.", code="BOOKING_ALREADY_CANCELLED")
    if limit is not None and now > limit:
        raise Conflict("It is too late to cancel this booking.", code="CANCELLATION_LIMIT_PASSED")


def expiry_date(subcategory: Subcategory, booked_at: datetime) -> datetime | None:
    """When an uncollected thing is cancelled by the daily job (books 10 days, other things 30); None: never."""
    if subcategory.is_event or not subcategory.can_expire:
        return None
    return booked_at + (BOOK_EXPIRY_DELAY if subcategory.is_book else EXPIRY_DELAY)


@dataclass(frozen=True)
class Due:
    """When a daily job may act on a CONFIRMED booking: the rule is met at `at`; `day` is the Paris day whose run is
    the first allowed to act (the index partition `DUE#<job>#<day>`, docs/data-model.md)."""

    job: DueJob
    day: date
    at: datetime
    reminder_before: timedelta | None = None  # expiry only: the reminder goes this long before the expiry run

    @property
    def reminder_day(self) -> date | None:
        return None if self.reminder_before is None else self.day - timedelta(days=self.reminder_before.days)

    def not_before(self, day: date) -> Due:
        """The same due, moved to `day` if it is earlier (a validation undone after the job's day has passed)."""
        return self if self.day >= day else replace(self, day=day)


def expiry_run_day(expires_at: datetime) -> date:
    """The Paris day whose 00:30 run cancels an uncollected booking: the first with booked-at + delay ≤ its midnight."""
    day = paris_date(expires_at)
    return day if paris_midnight(day) >= expires_at else day + timedelta(days=1)


def event_due(event_start: datetime) -> Due:
    """An event booking still CONFIRMED is marked USED 48 h after the event start."""
    at = event_start + EVENT_AUTO_VALIDATION_DELAY
    return Due(DueJob.AUTO_VALIDATE, paris_date(at), at)


def due(subcategory: Subcategory, amount_cents: int, booked_at: datetime, event_start: datetime | None) -> Due | None:
    """Which daily job will act on this booking, from when, and (expiry) when its reminder goes."""
    expires = expiry_date(subcategory, booked_at)
    if expires is not None:
        reminder = BOOK_EXPIRY_REMINDER_BEFORE if subcategory.is_book else EXPIRY_REMINDER_BEFORE
        return Due(DueJob.EXPIRE, expiry_run_day(expires), expires, reminder)
    if event_start is not None:
        return event_due(event_start)
    if subcategory.auto_validated_when_free and amount_cents == 0:
        at = booked_at + FREE_CARD_AUTO_VALIDATION_DELAY
        return Due(DueJob.AUTO_VALIDATE, paris_date(at), at)
    return None
