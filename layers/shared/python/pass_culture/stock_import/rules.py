"""The stock import's rules for one line of a provider's feed (domain.md, "Stock import"). Pure.

A line is `{"ref": EAN-13, "available": int >= 0, "price": number}`, prices in euros unless the provider is set to
cents. A bad line is never fatal: it is rejected with a reason, counted and listed in the run's report.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from stdnum.ean import compact as ean_compact
from stdnum.ean import is_valid as ean_is_valid

from pass_culture.offers.models import MAX_PRICE_CENTS, MAX_QUANTITY


class Rejection(StrEnum):
    MISSING_REF = "MISSING_REF"
    BAD_EAN = "BAD_EAN"
    MISSING_AVAILABLE = "MISSING_AVAILABLE"
    NEGATIVE_AVAILABLE = "NEGATIVE_AVAILABLE"
    BAD_AVAILABLE = "BAD_AVAILABLE"  # not a whole number, or past the pass Culture quota
    BAD_PRICE = "BAD_PRICE"  # not a number, negative, or above the 300 € a stock may cost
    MISSING_PRICE = "MISSING_PRICE"  # and the catalogue has none for the book


@dataclass(frozen=True)
class FeedLine:
    """A line that passed the shape rules. `price_cents` None: take the catalogue's price, if it has one."""

    ean: str
    available: int
    price_cents: int | None


def read_line(raw: Any, *, prices_in_cents: bool) -> FeedLine | Rejection:
    if not isinstance(raw, dict):
        return Rejection.MISSING_REF
    ref = raw.get("ref")
    if ref is None or (isinstance(ref, str) and not ref.strip()):
        return Rejection.MISSING_REF
    ean = ean_compact(str(ref)) if isinstance(ref, str | int) and not isinstance(ref, bool) else ""
    if len(ean) != 13 or not ean_is_valid(ean):
        return Rejection.BAD_EAN
    available = raw.get("available")
    if available is None:
        return Rejection.MISSING_AVAILABLE
    whole = isinstance(available, int) or (isinstance(available, float) and available.is_integer())
    if isinstance(available, bool) or not whole:
        return Rejection.BAD_AVAILABLE
    if available < 0:
        return Rejection.NEGATIVE_AVAILABLE
    if available > MAX_QUANTITY:
        return Rejection.BAD_AVAILABLE
    price = raw.get("price")
    if price is None:
        return FeedLine(ean, int(available), None)
    cents = price_in_cents(price, prices_in_cents=prices_in_cents)
    return Rejection.BAD_PRICE if cents is None else FeedLine(ean, int(available), cents)


def price_in_cents(price: Any, *, prices_in_cents: bool) -> int | None:
    """The price as integer cents, rounded half up from euros; None when it is not a price a stock may have."""
    if isinstance(price, bool) or not isinstance(price, int | float | str):
        return None
    try:
        amount = Decimal(str(price).strip().replace(",", "."))
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    cents = amount if prices_in_cents else amount * 100
    rounded = int(cents.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return rounded if 0 <= rounded <= MAX_PRICE_CENTS else None


def stock_quantity(available: int, booked: int) -> int:
    """What the shop has on its shelf plus what pass Culture users already booked (and will collect)."""
    return available + booked


def provider_url_problem(base_url: str, *, allow_loopback: bool) -> str | None:
    """Why a provider's base URL may not be called, or None. The import calls it from inside AWS with the venue's
    token: https only, no credentials in the URL, and never a loopback, private or link-local address written in it
    (no reaching into our own network) — except a loopback http URL where the settings allow it (the local stack's
    fake provider). A host NAME that resolves to such an address is refused when connecting (`provider.py`)."""
    import ipaddress
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(base_url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises for a port out of range or not a number
    except ValueError:
        return "The provider's base URL is not a valid URL."
    if not host:
        return "The provider's base URL has no host."
    if parts.username is not None or parts.password is not None:
        return "The provider's base URL must not carry credentials: give the token instead."
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    loopback = host == "localhost" or (address is not None and address.is_loopback)
    if loopback and allow_loopback:
        return None
    if parts.scheme != "https":
        return "The provider's base URL must be https."
    if loopback or (address is not None and address_problem(str(address), allow_loopback=False)):
        return "The provider's base URL must be a public address."
    return None


def address_problem(ip: str, *, allow_loopback: bool) -> str | None:
    """Why the import may not talk to this IP address, or None: only public unicast addresses (a loopback one where
    the settings allow it). IPv4 written inside IPv6 (`::ffff:10.0.0.1`) is judged as the IPv4 it carries."""
    import ipaddress

    address = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return None if allow_loopback else f"{ip} is a loopback address"
    if not address.is_global or address.is_multicast:
        return f"{ip} is not a public address"
    return None


ALERT_REJECTED_SHARE = Decimal("0.05")  # the venue is emailed past 5 % of its lines rejected


def run_needs_the_venue(*, status: str, read: int, rejected: int) -> bool:
    """An ended run the venue must hear of: its provider failed, or more than 5 % of the lines were rejected."""
    if status == "FAILED":
        return True
    return status in ("SUCCESS", "PARTIAL") and read > 0 and Decimal(rejected) > ALERT_REJECTED_SHARE * read
