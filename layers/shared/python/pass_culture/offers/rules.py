"""Pure rules of offers and stocks (domain.md, "Offers and stocks")."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from enum import StrEnum

from stdnum import ean as ean_number

from pass_culture.errors import BadRequest, RuleRefused
from pass_culture.offers.models import BookInfo, Stock
from pass_culture.subcategories import Channel, Subcategory, get_subcategory

# seeds/000: every book and magazine, except CLIL 3000 (scolaire) and 3013 (parascolaire).
INELIGIBLE_CLIL = {"3000": "scolaire", "3013": "parascolaire"}


def subcategory_of(subcategory_id: str) -> Subcategory:
    found = get_subcategory(subcategory_id)
    if found is None:
        raise BadRequest(
            f"Unknown subcategory '{subcategory_id}' (see GET /subcategories).",
            code="UNKNOWN_SUBCATEGORY",
            details=[{"field": "subcategoryId"}],
        )
    return found


def valid_ean(raw: str) -> str:
    compact = ean_number.compact(raw)
    if len(compact) != 13 or not ean_number.is_valid(compact):
        raise BadRequest(f"'{raw}' is not a valid EAN-13.", code="INVALID_EAN", details=[{"field": "ean"}])
    return str(compact)


def book_ineligibility(clil: str) -> str | None:
    """Why a book may not be offered, or None when it may."""
    label = INELIGIBLE_CLIL.get(clil.strip())
    return f"Les livres {label}s (CLIL {clil.strip()}) ne sont pas éligibles au pass Culture." if label else None


def require_eligible(book: BookInfo) -> None:
    reason = book_ineligibility(book.clil)
    if reason:
        raise RuleRefused(reason, code="INELIGIBLE_BOOK", details=[{"field": "ean", "clil": book.clil}])


def check_offer_fits(subcategory: Subcategory, *, url: str | None, is_duo: bool, ean: str | None) -> None:
    """An offer's fields must suit its subcategory: a URL for digital ones only, duo where allowed, EAN for books."""
    if subcategory.channel is Channel.ONLINE and not url:
        raise RuleRefused(
            f"A {subcategory.id} offer is digital: it needs a url.", code="URL_REQUIRED", details=[{"field": "url"}]
        )
    if subcategory.channel is Channel.OFFLINE and url:
        raise RuleRefused(
            f"A {subcategory.id} offer takes place at the venue: no url.",
            code="URL_NOT_ALLOWED",
            details=[{"field": "url"}],
        )
    if is_duo and not subcategory.can_be_duo:
        raise RuleRefused(
            f"A {subcategory.id} offer cannot be booked as a duo.", code="DUO_NOT_ALLOWED", details=[{"field": "isDuo"}]
        )
    if ean and not subcategory.is_book:
        raise RuleRefused("Only books carry an EAN.", code="EAN_NOT_ALLOWED", details=[{"field": "ean"}])


def check_stock_dates(
    subcategory: Subcategory, beginning: datetime | None, booking_limit: datetime | None, now: datetime
) -> datetime | None:
    """The stock's booking limit once checked: events need a future beginning (the limit defaults to it)."""
    if subcategory.is_event:
        if beginning is None:
            raise RuleRefused(
                "An event's stock needs its beginningDatetime.",
                code="BEGINNING_REQUIRED",
                details=[{"field": "beginningDatetime"}],
            )
        if beginning <= now:
            raise RuleRefused(
                "An event's stock must begin in the future.",
                code="BEGINNING_IN_PAST",
                details=[{"field": "beginningDatetime"}],
            )
        if booking_limit is not None and booking_limit > beginning:
            raise RuleRefused(
                "The booking limit must not be after the beginning.",
                code="BOOKING_LIMIT_AFTER_BEGINNING",
                details=[{"field": "bookingLimitDatetime"}],
            )
        return booking_limit or beginning
    if beginning is not None:
        raise RuleRefused(
            f"A {subcategory.id} offer is not dated: no beginningDatetime.",
            code="BEGINNING_NOT_ALLOWED",
            details=[{"field": "beginningDatetime"}],
        )
    return booking_limit


def is_stock_bookable(stock: Stock, now: datetime, asked: int = 1) -> bool:
    """A stock can be booked now: before its booking limit, before the event begins, with places left."""
    if stock.booking_limit_datetime is not None and now > stock.booking_limit_datetime:
        return False
    if stock.beginning_datetime is not None and now >= stock.beginning_datetime:
        return False
    remaining = stock.remaining_quantity
    return remaining is None or remaining >= asked


class OfferStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    SOLD_OUT = "SOLD_OUT"
    EXPIRED = "EXPIRED"


def offer_status(is_active: bool, stocks: list[Stock], now: datetime) -> OfferStatus:
    """What the pro portal shows: inactive, expired (nothing left to book in time), sold out, or active."""
    if not is_active:
        return OfferStatus.INACTIVE
    if not stocks:
        return OfferStatus.SOLD_OUT  # nothing to book yet
    if any(is_stock_bookable(stock, now) for stock in stocks):
        return OfferStatus.ACTIVE
    in_time = [
        s for s in stocks if is_stock_bookable(s.model_copy(update={"booked_quantity": 0, "quantity": None}), now)
    ]
    return OfferStatus.SOLD_OUT if in_time else OfferStatus.EXPIRED


def folded(text: str) -> str:
    """Case- and accent-insensitive form, for "name contains"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
