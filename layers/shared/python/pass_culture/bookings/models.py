"""The booking, as stored (with copies of what its emails, the counter and the payouts need) and answered."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from pass_culture.bookings.rules import BookingStatus, CancellationReason
from pass_culture.ids import qr_payload
from pass_culture.models import CamelInput, CamelModel, Instant


class BeneficiaryCopy(CamelModel):
    id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    postal_code: str
    birth_date: date | None = None  # the counter shows it (`dateOfBirth`)


class Booking(CamelModel):
    id: str
    token: str  # the countermark
    status: BookingStatus
    quantity: int
    unit_price_cents: int
    amount_cents: int
    is_digital_capped: bool = False
    stock_id: str
    offer_id: str
    offer_public_id: int | None = None  # the offer's number, as the public API's `offerId`
    offer_name: str
    subcategory_id: str
    ean: str | None = None
    venue_id: str
    venue_name: str
    venue_address: str
    venue_postal_code: str | None = None  # its département says the time zone the counter speaks in
    offerer_id: str
    pricing_point_venue_id: str | None = None
    booking_email: str  # the offer's, else the venue's: where the venue is told
    withdrawal_details: str | None = None
    beneficiary: BeneficiaryCopy
    booked_at: Instant
    event_date: Instant | None = None
    cancellation_limit_date: Instant | None = None
    expires_at: Instant | None = None
    used_at: Instant | None = None
    validation_author: str | None = None
    cancelled_at: Instant | None = None
    cancellation_reason: CancellationReason | None = None
    expiry_reminder_sent_at: Instant | None = None
    reimbursed_at: Instant | None = None
    # Set by the payouts (never by a booking's own writes): its pricing once priced, the payout that takes it.
    pricing: dict[str, Any] | None = Field(default=None, exclude=True)
    payout_id: str | None = Field(default=None, exclude=True)

    def to_beneficiary(self) -> dict[str, Any]:
        answer = self.to_api()
        answer.pop("beneficiary")
        answer["qrCode"] = qr_payload(self.token)
        return answer


class BookInput(CamelInput):
    stock_id: str = Field(min_length=1, max_length=100)
    quantity: int = Field(default=1, ge=1, le=2)
