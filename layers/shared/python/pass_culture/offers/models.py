"""Offers, stocks and catalogue books: what DynamoDB stores (keys added by the repository) and what the API answers."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from pass_culture.models import CamelInput, CamelModel, Instant, InstantInput, Omittable

MAX_PRICE_CENTS = 300_00
MAX_QUANTITY = 1_000_000
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=140)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000, pattern=r"^https?://\S+$")]
EmailText = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]


class VenueSnapshot(CamelModel):
    """The venue as the offer shows it (copied at creation: a search reads offers only)."""

    id: str
    name: str
    address: str
    postal_code: str
    city: str
    latitude: float
    longitude: float
    booking_email: str
    pricing_point_venue_id: str | None = None


class BookInfo(CamelModel):
    ean: str
    title: str
    author: str = ""
    publisher: str = ""
    clil: str = ""


class Offer(CamelModel):
    id: str
    # A number as the public pass Culture API gives venue software (`offerId`); `id` stays the API's own id.
    public_id: int | None = None
    venue_id: str
    offerer_id: str
    name: str
    subcategory_id: str
    description: str = ""
    ean: str | None = None
    book: BookInfo | None = None
    url: str | None = None
    is_duo: bool = False
    booking_email: str | None = None
    withdrawal_details: str | None = None
    image_key: str | None = None
    is_active: bool = True
    is_featured: bool = False
    venue: VenueSnapshot
    geohash: str
    stock_ids: list[str] = Field(default_factory=list)
    created_at: Instant
    updated_at: Instant


class Stock(CamelModel):
    id: str
    offer_id: str
    price_cents: int
    quantity: int | None = None  # None: unlimited
    booked_quantity: int = 0
    booking_limit_datetime: Instant | None = None
    beginning_datetime: Instant | None = None
    created_at: Instant

    @property
    def remaining_quantity(self) -> int | None:
        return None if self.quantity is None else max(0, self.quantity - self.booked_quantity)


# -- request bodies ---------------------------------------------------------------------------------------------
class CreateOfferInput(CamelInput):
    venue_id: str = Field(min_length=1, max_length=64)
    subcategory_id: str = Field(min_length=1, max_length=64)
    name: Name | None = None  # may come from the catalogue when an EAN is given
    description: str = Field(default="", max_length=10_000)
    ean: str | None = Field(default=None, max_length=20)
    url: Url | None = None
    is_duo: bool = False
    booking_email: EmailText | None = None
    withdrawal_details: str | None = Field(default=None, max_length=1000)
    image_url: Url | None = None


class UpdateOfferInput(CamelInput):
    """A PATCH: a field left out is unchanged; `url`, `bookingEmail` and `withdrawalDetails` may be null (removed)."""

    name: Omittable[Name] = None
    description: Omittable[str] = Field(default=None, max_length=10_000)
    url: Url | None = None
    is_duo: Omittable[bool] = None
    booking_email: EmailText | None = None
    withdrawal_details: str | None = Field(default=None, max_length=1000)
    is_active: Omittable[bool] = None
    is_featured: Omittable[bool] = None


class CreateStockInput(CamelInput):
    price_cents: int = Field(ge=0, le=MAX_PRICE_CENTS)
    quantity: int | None = Field(default=None, ge=0, le=MAX_QUANTITY)
    booking_limit_datetime: InstantInput | None = None
    beginning_datetime: InstantInput | None = None


class UpdateStockInput(CamelInput):
    price_cents: Omittable[int] = Field(default=None, ge=0, le=MAX_PRICE_CENTS)
    # Left out: unchanged. Unlimited is said explicitly (`unlimited: true`), never with a null quantity.
    quantity: Omittable[int] = Field(default=None, ge=0, le=MAX_QUANTITY)
    unlimited: bool = False
    booking_limit_datetime: InstantInput | None = None
    beginning_datetime: InstantInput | None = None

    @model_validator(mode="after")
    def _quantity_or_unlimited(self) -> UpdateStockInput:
        if self.unlimited and self.quantity is not None:
            raise ValueError("give either a quantity or unlimited: true, not both")
        return self


class ImageUploadInput(CamelInput):
    content_type: str = Field(pattern=r"^image/(jpeg|png|webp)$")


def stock_to_api(stock: Stock, bookable: bool) -> dict[str, Any]:
    answer = stock.to_api()
    answer["remainingQuantity"] = stock.remaining_quantity
    answer["isBookable"] = bookable
    return answer
