"""Pure booking rules (domain.md, "Bookings", "Automatic validation")."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from pass_culture.clock import paris_date
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


def due(
    subcategory: Subcategory, amount_cents: int, booked_at: datetime, event_start: datetime | None
) -> tuple[DueJob, date] | None:
    """Which daily job will act on this booking, and on which Paris day."""
    expires = expiry_date(subcategory, booked_at)
    if expires is not None:
        return DueJob.EXPIRE, paris_date(expires)
    if event_start is not None:
        return DueJob.AUTO_VALIDATE, paris_date(event_start + EVENT_AUTO_VALIDATION_DELAY)
    if subcategory.auto_validated_when_free and amount_cents == 0:
        return DueJob.AUTO_VALIDATE, paris_date(booked_at + FREE_CARD_AUTO_VALIDATION_DELAY)
    return None
