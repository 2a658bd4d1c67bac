"""Booking use cases for beneficiaries: book, cancel, list their bookings."""

from __future__ import annotations

from typing import Any

from pass_culture.access import Caller
from pass_culture.bookings.models import BeneficiaryCopy, Booking, BookInput
from pass_culture.bookings.repository import BookingLost, BookingRace, BookingsRepository
from pass_culture.bookings.rules import (
    BookingStatus,
    CancellationReason,
    cancellation_limit,
    check_beneficiary_can_cancel,
    check_quantity,
    due,
    expiry_date,
)
from pass_culture.clock import Clock
from pass_culture.credit import balance, check_can_spend
from pass_culture.errors import Conflict, Forbidden, NotFound, RuleRefused
from pass_culture.idempotency import IdempotentRequests
from pass_culture.ids import new_countermark, new_id
from pass_culture.offers.rules import is_stock_bookable, subcategory_of
from pass_culture.subcategories import Channel

COUNTERMARK_ATTEMPTS = 5
NOT_BOOKABLE = RuleRefused("This offer cannot be booked.", code="OFFER_NOT_BOOKABLE")


class BookingsService:
    def __init__(
        self, repository: BookingsRepository, clock: Clock, idempotency: IdempotentRequests | None = None
    ) -> None:
        self._repository = repository
        self._clock = clock
        self.idempotency = idempotency
        self._book_once = idempotency.per_request(self.book) if idempotency else None

    def book_once(self, caller: Caller, data: BookInput, idempotency_key: str | None) -> dict[str, Any]:
        """`POST /bookings`: with an Idempotency-Key, a retry answers the first answer and books nothing more."""
        if self._book_once is None:
            return self.book(caller, data)
        result: dict[str, Any] = self._book_once(caller, data, idempotency_key)
        return result

    def book(self, caller: Caller, data: BookInput) -> dict[str, Any]:
        """One read (offer, stock, profile, credit), then one transaction; every rule of domain.md checked."""
        caller.require("beneficiary")
        assert caller.user_id is not None
        now = self._clock.now()
        context = self._repository.context(data.stock_id, caller.user_id)
        offer, stock, beneficiary, credit = context.offer, context.stock, context.beneficiary, context.credit
        if beneficiary is None or credit is None:
            raise Forbidden("You are not registered as a beneficiary yet.", code="BENEFICIARY_NOT_FOUND")
        if offer is None or stock is None:
            raise NotFound("No such stock.", code="STOCK_NOT_FOUND")
        check_quantity(data.quantity, offer.is_duo)
        if not offer.is_active or not is_stock_bookable(stock.model_copy(update={"quantity": None}), now):
            raise NOT_BOOKABLE
        if not is_stock_bookable(stock, now, asked=data.quantity):
            raise Conflict("This offer is sold out.", code="SOLD_OUT")
        subcategory = subcategory_of(offer.subcategory_id)
        digital_capped = (
            subcategory.is_digital_capped and bool(offer.url) and subcategory.channel is not Channel.OFFLINE
        )
        amount = stock.price_cents * data.quantity
        left = balance(
            credit.initial_cents,
            credit.spent_cents,
            credit.digital_cap_cents,
            credit.digital_spent_cents,
            credit.expires_at,
            now,
        )
        check_can_spend(left, amount, digital_capped=digital_capped)
        booking = Booking(
            id=new_id(),
            token=new_countermark(),
            status=BookingStatus.CONFIRMED,
            quantity=data.quantity,
            unit_price_cents=stock.price_cents,
            amount_cents=amount,
            is_digital_capped=digital_capped,
            stock_id=stock.id,
            offer_id=offer.id,
            offer_public_id=offer.public_id,
            offer_name=offer.name,
            subcategory_id=offer.subcategory_id,
            ean=offer.ean,
            venue_id=offer.venue_id,
            venue_name=offer.venue.name,
            venue_address=f"{offer.venue.address}, {offer.venue.postal_code} {offer.venue.city}",
            venue_postal_code=offer.venue.postal_code,
            offerer_id=offer.offerer_id,
            pricing_point_venue_id=offer.venue.pricing_point_venue_id,
            booking_email=offer.booking_email or offer.venue.booking_email,
            withdrawal_details=offer.withdrawal_details,
            beneficiary=BeneficiaryCopy.model_validate(beneficiary.to_api()),
            booked_at=now,
            event_date=stock.beginning_datetime,
            cancellation_limit_date=cancellation_limit(now, stock.beginning_datetime),
            expires_at=expiry_date(subcategory, now),
        )
        due_job = due(subcategory, amount, now, stock.beginning_datetime)
        for _attempt in range(COUNTERMARK_ATTEMPTS):
            try:
                self._repository.book(booking, stock, credit, due_job, now)
                return booking.to_beneficiary()
            except BookingLost as lost:
                if lost.races == {BookingRace.TOKEN}:
                    booking = booking.model_copy(update={"token": new_countermark()})  # a countermark collision
                    continue
                raise _lost_to(lost.races) from None
        raise Conflict("Could not draw a free countermark, please retry.", code="COUNTERMARK_COLLISION")

    def cancel(self, caller: Caller, booking_id: str) -> dict[str, Any]:
        caller.require("beneficiary")
        booking = self._repository.get(booking_id)
        if booking is None or booking.beneficiary.id != caller.user_id:
            raise Forbidden("This booking is not yours.", code="NOT_YOUR_BOOKING")
        now = self._clock.now()
        check_beneficiary_can_cancel(booking.status, booking.cancellation_limit_date, now)
        try:
            self._repository.cancel(booking, CancellationReason.BENEFICIARY.value, now)
        except BookingLost:
            raise Conflict("This booking changed meanwhile (used or cancelled).", code="BOOKING_CHANGED") from None
        cancelled = booking.model_copy(
            update={
                "status": BookingStatus.CANCELLED,
                "cancelled_at": now,
                "cancellation_reason": CancellationReason.BENEFICIARY,
            }
        )
        return cancelled.to_beneficiary()

    def my_bookings(self, caller: Caller, limit: int, cursor: str | None) -> dict[str, Any]:
        caller.require("beneficiary")
        assert caller.user_id is not None
        bookings, next_cursor = self._repository.of_beneficiary(caller.user_id, limit, cursor)
        now = self._clock.now()
        items = []
        for booking in bookings:
            item = booking.to_beneficiary()
            ongoing = booking.status is BookingStatus.CONFIRMED and (
                booking.event_date is None or booking.event_date > now
            )
            item["group"] = "ongoing" if ongoing else "ended"
            items.append(item)
        return {"items": items, "nextCursor": next_cursor}


def _lost_to(races: set[BookingRace]) -> Exception:
    """The most telling reason a booking lost its race (several conditions may fail at once)."""
    if BookingRace.NOT_BOOKABLE in races:
        return NOT_BOOKABLE
    if BookingRace.ALREADY_BOOKED in races:
        return Conflict("You already booked this offer.", code="ALREADY_BOOKED")
    if BookingRace.STOCK in races:
        return Conflict("This offer is sold out.", code="SOLD_OUT")
    if BookingRace.CREDIT in races:
        return Conflict("Not enough credit left for this booking.", code="INSUFFICIENT_CREDIT")
    return Conflict("The booking could not be made, please retry.", code="BOOKING_CONFLICT")


def build_bookings_service() -> BookingsService:
    from pass_culture import aws
    from pass_culture.clock import SystemClock
    from pass_culture.dynamo import Table
    from pass_culture.settings import get_settings

    settings = get_settings()
    table = Table(aws.dynamodb(), settings.table_name)
    return BookingsService(
        BookingsRepository(table), SystemClock(), IdempotentRequests(settings.table_name, aws.dynamodb())
    )
