"""The counter's use cases: look up, validate ("use"), undo a validation ("keep"), cancel by the venue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pass_culture.bookings.models import Booking
from pass_culture.bookings.repository import BookingLost, BookingsRepository
from pass_culture.bookings.rules import CancellationReason, due
from pass_culture.clock import Clock, isoformat
from pass_culture.counter.repository import CounterRepository, ValidationRace
from pass_culture.counter.rules import (
    MAX_FAILED_LOOKUPS_PER_MINUTE,
    CounterAction,
    counter_refusal,
    counts_as_failed_lookup,
)
from pass_culture.errors import Gone, TooManyRequests
from pass_culture.http import Caller
from pass_culture.ids import normalize_countermark
from pass_culture.money import euros
from pass_culture.subcategories import BY_ID


def counter_view(booking: Booking) -> dict[str, Any]:
    """The booking as the public pass Culture API shows it to venue software, plus our own fields."""
    subcategory = BY_ID.get(booking.subcategory_id)
    beneficiary = booking.beneficiary
    return {
        "bookingId": booking.id,
        "token": booking.token,
        "status": booking.status.value,
        "isUsed": booking.status.value in ("USED", "REIMBURSED"),
        "offerId": booking.offer_id,
        "offerName": booking.offer_name,
        "offerType": "EVENEMENT" if subcategory and subcategory.is_event else "BIEN",
        "ean13": booking.ean,
        "datetime": isoformat(booking.event_date) if booking.event_date else None,
        "quantity": booking.quantity,
        "priceCents": booking.unit_price_cents,
        "price": euros(booking.unit_price_cents),
        "userName": f"{beneficiary.first_name} {beneficiary.last_name}",
        "firstName": beneficiary.first_name,
        "lastName": beneficiary.last_name,
        "email": beneficiary.email,
        "phoneNumber": beneficiary.phone,
        "venueName": booking.venue_name,
        "venueAddress": booking.venue_address,
        "bookedAt": isoformat(booking.booked_at),
    }


class CounterService:
    def __init__(self, counter: CounterRepository, bookings: BookingsRepository, clock: Clock) -> None:
        self._counter = counter
        self._bookings = bookings
        self._clock = clock

    def _find(self, caller: Caller, typed_token: str, action: CounterAction) -> tuple[Booking, datetime]:
        """The booking behind a countermark, once every check of the ordered list passed. ≤ 2 round trips."""
        caller.require_pro_or_api_key()
        now = self._clock.now()
        minute = int(now.timestamp()) // 60
        token = normalize_countermark(typed_token)
        token_item, failures = self._counter.token_and_failures(token, caller.principal, minute)
        if failures >= MAX_FAILED_LOOKUPS_PER_MINUTE:
            retry_after = 60 - int(now.timestamp()) % 60
            raise TooManyRequests(
                f"Trop de tentatives : réessayez dans {retry_after} secondes.", retry_after_seconds=retry_after
            )
        booking, is_callers = (
            self._counter.booking_for(str(token_item["bookingId"]), str(token_item["offererId"]), caller)
            if token_item
            else (None, False)
        )
        refusal = counter_refusal(booking, is_callers, action, now)
        if refusal is not None:
            if counts_as_failed_lookup(refusal):
                self._counter.record_failed_lookup(caller.principal, minute, now)
            raise refusal
        assert booking is not None
        return booking, now

    def look_up(self, caller: Caller, token: str) -> dict[str, Any]:
        booking, _ = self._find(caller, token, CounterAction.LOOK_UP)
        return counter_view(booking)

    def use(self, caller: Caller, token: str) -> None:
        booking, now = self._find(caller, token, CounterAction.USE)
        try:
            self._counter.use(booking, caller.principal, now)
        except ValidationRace:
            raise Gone("Cette réservation a déjà été validée.", code="BOOKING_USED") from None

    def keep(self, caller: Caller, token: str) -> None:
        booking, _ = self._find(caller, token, CounterAction.KEEP)
        subcategory = BY_ID[booking.subcategory_id]
        try:
            self._counter.keep(booking, due(subcategory, booking.amount_cents, booking.booked_at, booking.event_date))
        except ValidationRace:
            raise Gone("Cette réservation n'est plus validée.", code="BOOKING_NOT_USED") from None

    def cancel(self, caller: Caller, token: str) -> None:
        booking, now = self._find(caller, token, CounterAction.CANCEL)
        try:
            self._bookings.cancel(booking, CancellationReason.OFFERER.value, now)
        except BookingLost:
            raise Gone("Cette réservation a déjà été validée ou annulée.", code="BOOKING_CHANGED") from None


def build_counter_service() -> CounterService:
    from pass_culture import aws
    from pass_culture.clock import SystemClock
    from pass_culture.dynamo import Table
    from pass_culture.settings import get_settings

    table = Table(aws.dynamodb(), get_settings().table_name)
    return CounterService(CounterRepository(table), BookingsRepository(table), SystemClock())
