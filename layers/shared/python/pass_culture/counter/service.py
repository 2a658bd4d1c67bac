"""The counter's use cases: look up, validate ("use"), undo a validation ("keep"), cancel by the venue.

Guessing countermarks must not work (domain.md "The counter"). A failed look-up — an unknown (or malformed) token,
or a token of another offerer's booking — counts against the caller's offerer, whoever acts for it: an API key
against its offerer; a pro against every offerer they belong to (all or none), or against themselves when they
belong to none. Ten failures in any 60 s per offerer (`pass_culture.counter.window`); past that, DynamoDB refuses
to count the failure and the answer is 429 with `Retry-After`: when the next attempt can succeed.

Once an offerer is over the limit, every look-up in its name answers 429 — right tokens too, before the token is
even judged — until the window lets failures through again: otherwise a guesser would keep telling right guesses
(200) from wrong ones (429). A right look-up of one's own booking (even a used, cancelled, reimbursed or too early
one) is never counted. The other answers keep the order of the domain rules: 404, 403, 403, 410, 410, 403; 429 takes
their place when the caller is blocked. For a pro, "blocked" is judged on the offerer of the booking looked up:
right look-ups for an offerer that is not over its limit still answer (the pro sees those bookings in their own
tracking anyway), while their failures are refused as soon as any of their offerers is over its limit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from pass_culture.access import Caller
from pass_culture.bookings.models import Booking
from pass_culture.bookings.repository import BookingLost, BookingsRepository
from pass_culture.bookings.rules import CancellationReason, due
from pass_culture.clock import Clock, isoformat, paris_date
from pass_culture.counter.repository import (
    CounterRepository,
    FailureLog,
    FailureRefused,
    ValidationRace,
    offerer_bucket,
)
from pass_culture.counter.rules import (
    ALREADY_CANCELLED,
    ALREADY_USED,
    NOT_USED_YET,
    CounterAction,
    counter_refusal,
    not_yours,
    too_many_failures,
    unknown_token,
)
from pass_culture.departments import department_code
from pass_culture.errors import DomainError, Gone
from pass_culture.ids import humanize, normalize_countermark
from pass_culture.subcategories import BY_ID

SUBSCRIPTIONS = frozenset({"ABO_BIBLIOTHEQUE", "ABO_MEDIATHEQUE", "CARTE_MUSEE"})


def counter_view(booking: Booking) -> dict[str, Any]:
    """The booking as the public pass Culture API's `GetBookingResponse` (its fields, order, types and nulls;
    docs/countermark-compatibility.md), then our own fields (`token`, `status`, `priceCents`, `bookedAt`)."""
    subcategory = BY_ID.get(booking.subcategory_id)
    is_event = bool(subcategory and subcategory.is_event)
    beneficiary = booking.beneficiary
    offer_number = booking.offer_public_id or 0  # every offer has one since its creation
    return {
        "bookingId": booking.id,
        "dateOfBirth": beneficiary.birth_date.isoformat() if beneficiary.birth_date else None,
        "datetime": utc_naive_z(booking.event_date) if booking.event_date else "",
        "ean13": booking.ean,
        "email": beneficiary.email,
        "formula": "PLACE" if is_event else "ABO" if booking.subcategory_id in SUBSCRIPTIONS else None,
        "isUsed": booking.status.value in ("USED", "REIMBURSED"),
        "offerId": offer_number,
        "publicOfferId": humanize(offer_number),
        "offerName": booking.offer_name,
        "offerType": "EVENEMENT" if is_event else "BIEN",
        "priceCategoryLabel": None,
        "phoneNumber": e164(beneficiary.phone),
        "price": booking.unit_price_cents / 100,  # euros, a JSON number: 10.1
        "quantity": booking.quantity,
        "theater": {},
        "userName": f"{beneficiary.first_name} {beneficiary.last_name}".strip() or beneficiary.email,
        "firstName": beneficiary.first_name,
        "lastName": beneficiary.last_name,
        "venueAddress": booking.venue_address.rsplit(", ", 1)[0],
        "venueDepartmentCode": department_code(booking.venue_postal_code),
        "venueName": booking.venue_name,
        "token": booking.token,
        "status": booking.status.value,
        "priceCents": booking.unit_price_cents,
        "bookedAt": isoformat(booking.booked_at),
    }


def utc_naive_z(instant: datetime) -> str:
    """As pcapi's `format_into_utc_date`: `2026-12-05T18:30:00Z` (microseconds only when there are some)."""
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def e164(phone: str) -> str | None:
    """A French number as the real API stores it: `06 12 34 56 78` -> `+33612345678`; another form kept as typed."""
    digits = "".join(char for char in phone if char.isdigit() or char == "+")
    if digits.startswith("0") and len(digits) == 10:
        return "+33" + digits[1:]
    return digits or None


COUNT_ATTEMPTS = 3  # reads of a contended window before a failed look-up is answered 429


class CounterService:
    def __init__(self, counter: CounterRepository, bookings: BookingsRepository, clock: Clock) -> None:
        self._counter = counter
        self._bookings = bookings
        self._clock = clock

    def _find(self, caller: Caller, typed_token: str, action: CounterAction) -> tuple[Booking, datetime]:
        """The booking behind a countermark, once every check of the ordered list passed. 2 round trips when it
        is found; a failed look-up costs one conditional write more (a pro's, also the read of their offerers
        and of their windows)."""
        caller.require_pro_or_api_key()
        now = self._clock.now()
        token = normalize_countermark(typed_token)
        if caller.api_key_offerer_id is not None:
            # Venue software: its offerer is known before anything is read, so is its window.
            entry, logs = self._counter.token_and_logs(token, [offerer_bucket(caller.api_key_offerer_id)])
            self._refuse_if_blocked(logs, now)
            if entry is None:
                self._failed(logs, now, unknown_token())
            if entry.offerer_id != caller.api_key_offerer_id:
                self._failed(logs, now, not_yours(action, api_key=True))
            booking = self._counter.booking(entry.booking_id)
        else:
            assert caller.user_id is not None
            user_id = caller.user_id
            entry = self._counter.token(token)
            if entry is None:
                self._failed(self._pro_logs(user_id), now, unknown_token())
            booking, is_member, log = self._counter.booking_for_member(entry.booking_id, entry.offerer_id, user_id)
            if not is_member:
                self._failed(self._pro_logs(user_id), now, not_yours(action))
            logs = [log]
            self._refuse_if_blocked(logs, now)
        if booking is None:  # a countermark whose booking is missing: unknown, as for the checks
            self._failed(logs, now, unknown_token())
        refusal = counter_refusal(booking, action, now)
        if refusal is not None:
            raise refusal  # the caller's own booking: never counted as a failed look-up
        return booking, now

    def _pro_logs(self, user_id: str) -> list[FailureLog]:
        return self._counter.logs(self._counter.pro_buckets(user_id))

    def _refuse_if_blocked(self, logs: list[FailureLog], now: datetime) -> None:
        window, at = self._counter.window, now.timestamp()
        wait = max(window.retry_after(log.counts, at) for log in logs)
        if wait > 0:
            raise too_many_failures(wait)

    def _failed(self, logs: list[FailureLog], now: datetime, error: DomainError) -> NoReturn:
        """Counts the failed look-up, then answers it; 429 instead when the caller is over the limit. A write refused
        because another failure of the same offerer changed the window since it was read is tried again on the
        window as it is now, so a race between two callers is not taken for a full window."""
        for _attempt in range(COUNT_ATTEMPTS):
            self._refuse_if_blocked(logs, now)
            try:
                self._counter.count_failure(logs, now)
            except FailureRefused:
                logs = self._counter.logs([log.bucket for log in logs])
                continue
            raise error
        raise too_many_failures(1)  # still racing after COUNT_ATTEMPTS reads: a second is enough to settle

    def look_up(self, caller: Caller, token: str) -> dict[str, Any]:
        booking, _ = self._find(caller, token, CounterAction.LOOK_UP)
        return counter_view(booking)

    def use(self, caller: Caller, token: str) -> None:
        booking, now = self._find(caller, token, CounterAction.USE)
        try:
            self._counter.use(booking, caller.principal, now)
        except ValidationRace:
            raise Gone(ALREADY_USED, code="BOOKING_USED", fields={"booking": [ALREADY_USED]}) from None

    def keep(self, caller: Caller, token: str) -> None:
        booking, now = self._find(caller, token, CounterAction.KEEP)
        subcategory = BY_ID[booking.subcategory_id]
        back = due(subcategory, booking.amount_cents, booking.booked_at, booking.event_date)
        try:
            # A day already passed is caught by tomorrow's run: the jobs never read back past days.
            self._counter.keep(booking, back.not_before(paris_date(now) + timedelta(days=1)) if back else None)
        except ValidationRace:  # undone or priced meanwhile: as the real API says either
            raise Gone(NOT_USED_YET, code="BOOKING_NOT_USED", fields={"booking": [NOT_USED_YET]}) from None

    def cancel(self, caller: Caller, token: str) -> None:
        booking, now = self._find(caller, token, CounterAction.CANCEL)
        try:
            self._bookings.cancel(booking, CancellationReason.OFFERER.value, now)
        except BookingLost:  # validated or cancelled meanwhile
            raise Gone(ALREADY_CANCELLED, code="BOOKING_CHANGED", fields={"global": [ALREADY_CANCELLED]}) from None


def build_counter_service() -> CounterService:
    from pass_culture import aws
    from pass_culture.clock import SystemClock
    from pass_culture.dynamo import Table
    from pass_culture.settings import get_settings

    table = Table(aws.dynamodb(), get_settings().table_name)
    return CounterService(CounterRepository(table), BookingsRepository(table), SystemClock())
