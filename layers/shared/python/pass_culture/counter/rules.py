"""The counter's checks, in the order of domain.md, with the public pass Culture API's status codes and French
messages: unknown token 404; not the caller's 403; reimbursed 403; used 410; cancelled 410; event still inside its
cancellation window 403 saying from when. Too many failed look-ups: 429 (the window is in counter/window.py). Pure."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pass_culture.bookings.models import Booking
from pass_culture.bookings.rules import BookingStatus
from pass_culture.clock import PARIS
from pass_culture.errors import DomainError, Forbidden, Gone, NotFound, TooManyRequests


class CounterAction(StrEnum):
    LOOK_UP = "look up"
    USE = "use"
    KEEP = "keep"  # undo a validation
    CANCEL = "cancel"


def unknown_token() -> DomainError:
    return NotFound("Cette contremarque n'a pas été trouvée.", code="TOKEN_NOT_FOUND")


def not_yours() -> DomainError:
    return Forbidden(
        "Vous n'avez pas les droits d'accès suffisants pour accéder à cette information.", code="TOKEN_NOT_YOURS"
    )


def counter_refusal(
    booking: Booking | None, is_callers: bool, action: CounterAction, now: datetime
) -> DomainError | None:
    """The first check the booking fails for this action, or None when the action may proceed."""
    if booking is None:
        return unknown_token()
    if not is_callers:
        return not_yours()
    status = booking.status
    if status is BookingStatus.REIMBURSED:
        return Forbidden("Cette réservation a été remboursée.", code="BOOKING_REIMBURSED")
    if action is CounterAction.KEEP:
        if status is BookingStatus.CANCELLED:
            return Gone("Cette réservation a été annulée.", code="BOOKING_CANCELLED")
        if status is BookingStatus.CONFIRMED:
            return Gone("Cette réservation n'a pas encore été validée.", code="BOOKING_NOT_USED")
        if booking.pricing is not None:  # priced: counted in its venue's revenue, on its way to be paid
            return Gone("Le remboursement est en cours de traitement.", code="BOOKING_PRICED")
        return None
    if status is BookingStatus.USED:
        if action is CounterAction.CANCEL:
            return Gone("Impossible d'annuler une réservation consommée.", code="BOOKING_USED")
        return Gone("Cette réservation a déjà été validée.", code="BOOKING_USED")
    if status is BookingStatus.CANCELLED:
        return Gone("Cette réservation a été annulée.", code="BOOKING_CANCELLED")
    limit = booking.cancellation_limit_date
    if action is not CounterAction.CANCEL and limit is not None and now < limit:
        when = limit.astimezone(PARIS).strftime("%d/%m/%Y à %Hh%M")
        return Forbidden(
            f"Vous pourrez valider cette contremarque à partir du {when}, une fois le délai d'annulation passé.",
            code="BOOKING_TOO_EARLY",
            details=[{"validableFrom": limit.isoformat()}],
        )
    return None


def too_many_failures(retry_after_seconds: int) -> DomainError:
    """Too many failed look-ups for the caller's offerer: told when the next attempt can succeed."""
    return TooManyRequests(
        f"Trop de tentatives : réessayez dans {retry_after_seconds} secondes.",
        retry_after_seconds=retry_after_seconds,
    )
