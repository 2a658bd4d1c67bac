"""The counter's checks, in the order of domain.md, answering exactly as the public pass Culture API does (pcapi
`routes/public/booking_token/v2`, `core/bookings/validation.py`, `routes/error_handlers/bookings_error_handlers.py`;
docs/countermark-compatibility.md): its status codes per route and state, and its error keys and French messages,
byte for byte (`fields`), beside our own `code` and `message`. Too many failed look-ups: 429 (ours: counter/window.py).
Pure."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pass_culture.bookings.models import Booking
from pass_culture.bookings.rules import BookingStatus
from pass_culture.departments import department_code, department_timezone
from pass_culture.errors import DomainError, Forbidden, Gone, NotFound, TooManyRequests


class CounterAction(StrEnum):
    LOOK_UP = "look up"
    USE = "use"
    KEEP = "keep"  # undo a validation
    CANCEL = "cancel"


# The real API's messages (typographic apostrophes and trailing periods exactly where it has them).
NOT_FOUND = "Cette contremarque n'a pas été trouvée"
NOT_YOURS_TO_VALIDATE = (
    "Vous n’avez pas les droits suffisants pour valider cette contremarque car cette réservation n'a pas été faite sur "
    "une de vos offres, ou que votre rattachement à la structure est encore en cours de validation"
)
NOT_YOURS_TO_CANCEL_KEY = "Vous n'avez pas les droits suffisants pour annuler cette réservation."
NOT_YOURS_TO_CANCEL_PRO = "Vous n'avez pas les droits d'accès suffisants pour accéder à cette information."
REIMBURSED = "Cette réservation a été remboursée"
REIMBURSEMENT_IN_PROGRESS = "Le remboursement est en cours de traitement"
ALREADY_USED = "Cette réservation a déjà été validée"
CANCELLED = "Cette réservation a été annulée"
NOT_USED_YET = "Cette réservation n'a pas encore été validée"
CANNOT_CANCEL_USED = "Impossible d'annuler une réservation consommée"
ALREADY_CANCELLED = "Cette contremarque a déjà été annulée"
TOO_EARLY = "Vous pourrez valider cette contremarque à partir du {when}, une fois le délai d’annulation passé."


def unknown_token() -> DomainError:
    return NotFound(NOT_FOUND, code="TOKEN_NOT_FOUND", fields={"global": [NOT_FOUND]})


def not_yours(action: CounterAction = CounterAction.LOOK_UP, *, api_key: bool = False) -> DomainError:
    """Another offerer's booking. The real API words it per route, and for cancel per kind of caller."""
    if action is not CounterAction.CANCEL:
        return Forbidden(NOT_YOURS_TO_VALIDATE, code="TOKEN_NOT_YOURS", fields={"user": [NOT_YOURS_TO_VALIDATE]})
    if api_key:
        return Forbidden(NOT_YOURS_TO_CANCEL_KEY, code="TOKEN_NOT_YOURS", fields={"user": [NOT_YOURS_TO_CANCEL_KEY]})
    return Forbidden(NOT_YOURS_TO_CANCEL_PRO, code="TOKEN_NOT_YOURS", fields={"global": [NOT_YOURS_TO_CANCEL_PRO]})


def counter_refusal(booking: Booking, action: CounterAction, now: datetime) -> DomainError | None:
    """The first check the caller's own booking fails for this action, or None when the action may proceed."""
    if action is CounterAction.KEEP:
        return _keep_refusal(booking)
    if action is CounterAction.CANCEL:
        return _cancel_refusal(booking)
    return _usable_refusal(booking, now)


def _usable_refusal(booking: Booking, now: datetime) -> DomainError | None:
    """GET and use (pcapi `check_is_usable`): reimbursed 403, used 410, cancelled 410, event too early 403."""
    status = booking.status
    if status is BookingStatus.REIMBURSED:
        return Forbidden(REIMBURSED, code="BOOKING_REIMBURSED", fields={"payment": [REIMBURSED]})
    if status is BookingStatus.USED:
        return Gone(ALREADY_USED, code="BOOKING_USED", fields={"booking": [ALREADY_USED]})
    if status is BookingStatus.CANCELLED:
        return Gone(CANCELLED, code="BOOKING_CANCELLED", fields={"booking_cancelled": [CANCELLED]})
    limit = booking.cancellation_limit_date
    if booking.event_date is not None and limit is not None and now < limit:
        zone = department_timezone(department_code(booking.venue_postal_code))
        message = TOO_EARLY.format(when=limit.astimezone(zone).strftime("%d/%m/%Y à %H:%M"))
        return Forbidden(message, code="BOOKING_TOO_EARLY", details=[{"validableFrom": limit.isoformat()}],
                         fields={"booking": [message]})  # fmt: skip
    return None


def _keep_refusal(booking: Booking) -> DomainError | None:
    """Undo a validation (pcapi `check_can_be_mark_as_unused`): cancelled, reimbursed, not used: all 410."""
    status = booking.status
    if status is BookingStatus.CANCELLED:
        return Gone(CANCELLED, code="BOOKING_CANCELLED", fields={"booking": [CANCELLED]})
    if status is BookingStatus.REIMBURSED or (status is BookingStatus.USED and booking.pricing is not None):
        # Priced: counted in its venue's year and on its way to be paid (pcapi: a processed pricing) — it stays.
        code = "BOOKING_REIMBURSED" if status is BookingStatus.REIMBURSED else "BOOKING_PRICED"
        return Gone(REIMBURSEMENT_IN_PROGRESS, code=code, fields={"payment": [REIMBURSEMENT_IN_PROGRESS]})
    if status is not BookingStatus.USED:
        return Gone(NOT_USED_YET, code="BOOKING_NOT_USED", fields={"booking": [NOT_USED_YET]})
    return None


def _cancel_refusal(booking: Booking) -> DomainError | None:
    """Cancel by the venue (pcapi `check_booking_can_be_cancelled`): cancelled 410; used or reimbursed 403."""
    status = booking.status
    if status is BookingStatus.CANCELLED:
        return Gone(ALREADY_CANCELLED, code="BOOKING_CANCELLED", fields={"global": [ALREADY_CANCELLED]})
    if status in (BookingStatus.USED, BookingStatus.REIMBURSED):
        return Forbidden(CANNOT_CANCEL_USED, code="BOOKING_USED", fields={"global": [CANNOT_CANCEL_USED]})
    return None


def too_many_failures(retry_after_seconds: int) -> DomainError:
    """Too many failed look-ups for the caller's offerer (ours: the real API has no such limit), said its way too."""
    message = f"Trop de tentatives : réessayez dans {retry_after_seconds} secondes."
    return TooManyRequests(message, retry_after_seconds=retry_after_seconds, fields={"global": [message]})
