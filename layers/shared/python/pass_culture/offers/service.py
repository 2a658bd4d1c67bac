"""Offers use cases: pros manage the offers and stocks of their venues; anyone searches bookable offers around a
point. Authorisation: a pro acts on venues of offerers they are a member of (checked inside each write)."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from pass_culture.access import Caller
from pass_culture.accounts.models import ValidationStatus
from pass_culture.clock import Clock, isoformat
from pass_culture.errors import BadRequest, Forbidden, NotFound, RuleRefused
from pass_culture.geo import MAX_CELLS, AreaTooLarge, covering_cells, encode, haversine_km
from pass_culture.idempotency import IdempotentRequests
from pass_culture.ids import keyed_id, new_id
from pass_culture.offers.catalogue import MAX_REPORTED_REJECTIONS, parse_catalogue
from pass_culture.offers.images import ImageUploads, image_key
from pass_culture.offers.models import (
    CreateOfferInput,
    CreateStockInput,
    ImageUploadInput,
    Offer,
    Stock,
    UpdateOfferInput,
    UpdateStockInput,
    VenueSnapshot,
    stock_to_api,
)
from pass_culture.offers.repository import OfferExists, OffersRepository
from pass_culture.offers.rules import (
    check_offer_fits,
    check_stock_dates,
    folded,
    is_stock_bookable,
    offer_status,
    require_eligible,
    subcategory_of,
    valid_ean,
)

MAX_RADIUS_KM = 100
MAX_SEARCH_CHUNKS = 4  # BatchGetItem chunks (stocks and offerers of the candidates) one search request may read
BATCH_GET_KEYS = 100  # one BatchGetItem round trip
INTERNAL_FIELDS = ("geohash", "stockIds")


@cache
def _cell_queries() -> ThreadPoolExecutor:
    """The search's Queries run side by side on threads kept for the life of the execution environment: starting a
    pool per request cost more than the rest of the search's own work (infra/bench/handlers.py)."""
    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="cell-query")


def public_offer(
    offer: Offer, stocks: list[Stock] | None, now: datetime, images: ImageUploads | None = None
) -> dict[str, Any]:
    answer = offer.to_api()
    for name in INTERNAL_FIELDS:
        answer.pop(name)
    answer["imageUrl"] = images.url_of(offer.image_key) if images else None
    if stocks is not None:
        answer["stocks"] = [stock_to_api(stock, is_stock_bookable(stock, now)) for stock in stocks]
    return answer


@dataclass(frozen=True)
class SearchQuery:
    lat: float
    lon: float
    radius_km: float
    subcategory_id: str | None = None
    q: str | None = None
    limit: int = 20
    cursor: str | None = None


class OffersService:
    def __init__(
        self,
        repository: OffersRepository,
        images: ImageUploads,
        clock: Clock,
        idempotency: IdempotentRequests | None = None,
    ) -> None:
        self._repository = repository
        self._images = images
        self._clock = clock
        self.idempotency = idempotency
        self._create_once = idempotency.per_request(self.create_offer, keyed=True) if idempotency else None

    def create_offer_once(self, caller: Caller, data: CreateOfferInput, idempotency_key: str | None) -> dict[str, Any]:
        """`POST /offers`: with an Idempotency-Key, a retry answers the first answer and creates nothing more."""
        if self._create_once is None:
            return self.create_offer(caller, data)
        result: dict[str, Any] = self._create_once(caller, data, idempotency_key)
        return result

    def _pro(self, caller: Caller) -> str:
        caller.require("pro")
        assert caller.user_id is not None
        return caller.user_id

    def _offer_for_pro(self, caller: Caller, offer_id: str) -> tuple[str, Offer]:
        user_id = self._pro(caller)
        offer = self._repository.get_offer(offer_id)
        if offer is None:
            raise Forbidden("You are not a member of this venue's offerer.", code="NOT_OFFERER_MEMBER")
        return user_id, offer

    # -- offers --------------------------------------------------------------------------------------------------
    def create_offer(
        self, caller: Caller, data: CreateOfferInput, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """2 round trips: the venue and the catalogue's book in one read, then the offer with the membership check.
        With an Idempotency-Key the offer's id is derived from it, the pro and the request: run again — after
        a failure to record its first answer — it finds its offer written and answers it instead of a second one."""
        user_id = self._pro(caller)
        subcategory = subcategory_of(data.subcategory_id)
        ean = valid_ean(data.ean) if data.ean else None
        venue, book = self._repository.venue_and_book(data.venue_id, ean)
        if venue is None:
            raise Forbidden("You are not a member of this venue's offerer.", code="NOT_OFFERER_MEMBER")
        if ean and book is not None:
            require_eligible(book)
        elif ean and not data.name:
            raise RuleRefused(
                f"EAN {ean} is not in the catalogue: give the book's name.",
                code="UNKNOWN_EAN",
                details=[{"field": "name"}],
            )
        name = data.name or (book.title if book else None)
        if not name:
            raise BadRequest(
                "The offer needs a name.", code="BAD_REQUEST", details=[{"field": "name", "problem": "required"}]
            )
        check_offer_fits(subcategory, url=data.url, is_duo=data.is_duo, ean=ean)
        now = self._clock.now()
        request = json.dumps(data.model_dump(by_alias=True, mode="json"), sort_keys=True)
        offer_id = keyed_id(user_id, idempotency_key, request) if idempotency_key else new_id()
        offer = Offer(
            id=offer_id,
            public_id=self._repository.reserve_public_ids(1),
            venue_id=venue.id,
            offerer_id=venue.offerer_id,
            name=name,
            subcategory_id=subcategory.id,
            description=data.description,
            ean=ean,
            book=book,
            url=data.url,
            is_duo=data.is_duo,
            booking_email=data.booking_email,
            withdrawal_details=data.withdrawal_details,
            venue=VenueSnapshot.model_validate(venue.to_api()),
            geohash=encode(venue.latitude, venue.longitude),
            created_at=now,
            updated_at=now,
        )
        try:
            self._repository.create_offer(offer, user_id)
        except OfferExists:  # this key's offer, written by a first run whose answer was lost
            existing = self._repository.offer_with_stocks(offer_id)
            if existing is None:
                raise
            return public_offer(existing[0], existing[1], now, self._images)
        return public_offer(offer, [], now, self._images)

    def get_offer(self, offer_id: str) -> dict[str, Any]:
        """Public: ≤ 2 round trips (the offer with its stocks, then its offerer's validation)."""
        found = self._repository.offer_with_stocks(offer_id)
        offerer = self._repository.get_offerer(found[0].offerer_id) if found else None
        if (
            found is None
            or offerer is None
            or not found[0].is_active
            or offerer.validation_status != ValidationStatus.VALIDATED
        ):
            raise NotFound("No such offer.", code="OFFER_NOT_FOUND")
        return public_offer(*found, self._clock.now(), self._images)

    def update_offer(self, caller: Caller, offer_id: str, data: UpdateOfferInput) -> dict[str, Any]:
        user_id, offer = self._offer_for_pro(caller, offer_id)
        changes = data.model_dump(by_alias=True, exclude_unset=True, mode="json")
        check_offer_fits(
            subcategory_of(offer.subcategory_id),
            url=changes.get("url", offer.url),
            is_duo=changes.get("isDuo", offer.is_duo),
            ean=offer.ean,
        )
        now = self._clock.now()
        updated = self._repository.update_offer(offer, {**changes, "updatedAt": isoformat(now)}, user_id)
        return public_offer(updated, None, now, self._images)

    def deactivate_offer(self, caller: Caller, offer_id: str) -> None:
        """Deactivating hides the offer from search and booking; its bookings stay as they are."""
        user_id, offer = self._offer_for_pro(caller, offer_id)
        self._repository.update_offer(offer, {"isActive": False, "updatedAt": isoformat(self._clock.now())}, user_id)

    def image_upload(self, caller: Caller, offer_id: str, data: ImageUploadInput) -> dict[str, Any]:
        user_id, offer = self._offer_for_pro(caller, offer_id)
        key = image_key(offer.id, new_id(), data.content_type)
        self._repository.update_offer(offer, {"imageKey": key, "updatedAt": isoformat(self._clock.now())}, user_id)
        if offer.image_key:  # the image it replaces is referenced by nothing any more: not kept (nor paid for)
            self._images.delete(offer.image_key)
        return {"imageKey": key, "upload": self._images.presigned_post(key, data.content_type)}

    # -- stocks --------------------------------------------------------------------------------------------------
    def add_stock(self, caller: Caller, offer_id: str, data: CreateStockInput) -> dict[str, Any]:
        user_id, offer = self._offer_for_pro(caller, offer_id)
        now = self._clock.now()
        limit = check_stock_dates(
            subcategory_of(offer.subcategory_id), data.beginning_datetime, data.booking_limit_datetime, now
        )
        stock = Stock(
            id=f"{offer.id}.{new_id()[:12]}",
            offer_id=offer.id,
            price_cents=data.price_cents,
            quantity=data.quantity,
            booking_limit_datetime=limit,
            beginning_datetime=data.beginning_datetime,
            created_at=now,
        )
        self._repository.add_stock(offer, stock, user_id)
        return stock_to_api(stock, is_stock_bookable(stock, now))

    def update_stock(self, caller: Caller, stock_id: str, data: UpdateStockInput) -> dict[str, Any]:
        user_id = self._pro(caller)
        offer, stock = self._repository.offer_and_stock(stock_id)
        if offer is None or stock is None:
            raise Forbidden("You are not a member of this venue's offerer.", code="NOT_OFFERER_MEMBER")
        changes = data.model_dump(by_alias=True, exclude_unset=True, exclude={"unlimited"}, mode="json")
        if data.unlimited:
            changes["quantity"] = None
        now = self._clock.now()
        if "beginningDatetime" in changes or "bookingLimitDatetime" in changes:
            beginning = data.beginning_datetime if "beginningDatetime" in changes else stock.beginning_datetime
            limit = data.booking_limit_datetime if "bookingLimitDatetime" in changes else stock.booking_limit_datetime
            checked = check_stock_dates(subcategory_of(offer.subcategory_id), beginning, limit, now)
            changes["bookingLimitDatetime"] = isoformat(checked) if checked else None
        if not changes:
            raise BadRequest("Nothing to change.", code="BAD_REQUEST")
        updated = self._repository.update_stock(offer, stock_id, changes, user_id)
        return stock_to_api(updated, is_stock_bookable(updated, now))

    # -- pro listing ---------------------------------------------------------------------------------------------
    def venue_offers(self, caller: Caller, venue_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
        user_id = self._pro(caller)
        venue = self._repository.get_venue(venue_id)
        if venue is None or not self._repository.is_member(user_id, venue.offerer_id):
            raise Forbidden("You are not a member of this venue's offerer.", code="NOT_OFFERER_MEMBER")
        offers, next_cursor = self._repository.venue_offers(venue_id, limit, cursor)
        stocks, _ = self._repository.stocks_and_offerers([s for o in offers for s in o.stock_ids], [])
        now = self._clock.now()
        items = []
        for offer in offers:
            offer_stocks = [stocks[s] for s in offer.stock_ids if s in stocks]
            item = public_offer(offer, offer_stocks, now, self._images)
            item["status"] = offer_status(offer.is_active, offer_stocks, now).value
            items.append(item)
        items.sort(key=lambda item: not item["isFeatured"])  # featured first, then newest (stable sort)
        return {"items": items, "nextCursor": next_cursor}

    def pro_offer(self, caller: Caller, offer_id: str) -> dict[str, Any]:
        """`GET /pro/offers/{offerId}`: one offer as its pro manages it, whatever its state (inactive, its offerer not
        validated yet: the public `GET /offers/{offerId}` hides both), with every stock, what is booked of each and
        the status the venue's list shows. 2 round trips: the offer with its stocks, the membership."""
        user_id = self._pro(caller)
        found = self._repository.offer_with_stocks(offer_id)
        if found is None or not self._repository.is_member(user_id, found[0].offerer_id):
            raise Forbidden("You are not a member of this venue's offerer.", code="NOT_OFFERER_MEMBER")
        offer, stocks = found
        now = self._clock.now()
        answer = public_offer(offer, stocks, now, self._images)
        answer["status"] = offer_status(offer.is_active, stocks, now).value
        return answer

    # -- catalogue -----------------------------------------------------------------------------------------------
    def load_catalogue(self, caller: Caller, csv_text: str) -> dict[str, Any]:
        caller.require("admin")
        parsed = parse_catalogue(csv_text)
        self._repository.put_books(parsed.books)
        return {
            "loaded": len(parsed.books),
            "rejected": len(parsed.rejected),
            "rejections": parsed.rejected[:MAX_REPORTED_REJECTIONS],
        }

    # -- search --------------------------------------------------------------------------------------------------
    def search(self, query: SearchQuery) -> dict[str, Any]:
        """Bookable offers within the radius, nearest first. The work of one request is bounded whatever the point
        and radius (issue #9):
        - at most `geo.MAX_CELLS` Queries: one per geohash cell covering the circle (in parallel); a circle that
          would need more (a large radius near a pole, where cells narrow to nothing) is refused with a 400
          `RADIUS_TOO_LARGE` naming the largest radius served there (pass_culture.geo has the rule);
        - at most `MAX_SEARCH_CHUNKS` BatchGetItem chunks of the candidates' stocks and offerers (nearest first,
          `limit` candidates and 100 keys a chunk): when they are spent before `limit` bookable offers are found,
          the page holds fewer (even none) and `nextCursor` continues after the last candidate examined.
        Offers with no stock at all are never bookable: they are skipped without a read."""
        _check_search_area(query)
        if query.subcategory_id:
            subcategory_of(query.subcategory_id)
        after = _decode_search_cursor(query.cursor)
        try:
            cells = covering_cells(query.lat, query.lon, query.radius_km)
        except AreaTooLarge as too_large:
            raise _area_too_large(too_large.max_radius_km) from None
        cell_offers = _cell_queries().map(self._repository.offers_in_cell, cells)
        found = {offer.id: offer for offers in cell_offers for offer in offers}
        needle = folded(query.q) if query.q else None
        candidates = []
        for offer in found.values():
            exact = haversine_km(query.lat, query.lon, offer.venue.latitude, offer.venue.longitude)
            distance = round(exact, 6)  # the cursor's unit: sorting and paging agree to the micrometre
            if exact > query.radius_km or not offer.is_active or not offer.stock_ids or (distance, offer.id) <= after:
                continue
            if query.subcategory_id and offer.subcategory_id != query.subcategory_id:
                continue
            if needle and needle not in folded(offer.name):
                continue
            candidates.append((distance, offer.id, offer))
        candidates.sort(key=lambda c: (c[0], c[1]))
        now = self._clock.now()
        items: list[dict[str, Any]] = []
        position = 0  # candidates examined so far
        chunks = 0
        while len(items) < query.limit and position < len(candidates) and chunks < MAX_SEARCH_CHUNKS:
            chunk = _search_chunk(candidates, position, query.limit)
            chunks += 1
            stocks, offerers = self._repository.stocks_and_offerers(
                [s for _, _, o in chunk for s in o.stock_ids], sorted({o.offerer_id for _, _, o in chunk})
            )
            for distance, _, offer in chunk:
                position += 1
                offerer = offerers.get(offer.offerer_id)
                bookable = [s for s in (stocks.get(i) for i in offer.stock_ids) if s and is_stock_bookable(s, now)]
                if offerer and offerer.validation_status == ValidationStatus.VALIDATED and bookable:
                    items.append(public_offer(offer, bookable, now, self._images) | {"distanceKm": round(distance, 2)})
                if len(items) == query.limit:
                    break
        more = position < len(candidates)
        last = candidates[position - 1] if position else None
        return {"items": items, "nextCursor": _encode_search_cursor(last[0], last[1]) if more and last else None}


def _check_search_area(query: SearchQuery) -> None:
    """The handler's bounds, held here too (the use case is called by more than the handler). NaN fails them all."""
    if not -90 <= query.lat <= 90:
        raise BadRequest("lat must be in [-90, 90].", details=[{"field": "lat", "problem": "out of range"}])
    if not -180 <= query.lon <= 180:
        raise BadRequest("lon must be in [-180, 180].", details=[{"field": "lon", "problem": "out of range"}])
    if not query.radius_km > 0:
        raise BadRequest("radiusKm must be > 0.", details=[{"field": "radiusKm", "problem": "must be > 0"}])
    if not query.radius_km <= MAX_RADIUS_KM:
        raise BadRequest(
            f"radiusKm must be <= {MAX_RADIUS_KM}.",
            details=[{"field": "radiusKm", "problem": f"must be <= {MAX_RADIUS_KM}"}],
        )


def _area_too_large(max_radius_km: float) -> BadRequest:
    if max_radius_km <= 0:
        return BadRequest(
            "No search can be served this close to a pole: every longitude meets there. Move the point away from it.",
            code="RADIUS_TOO_LARGE",
            details=[{"field": "lat", "problem": "too close to a pole", "maxRadiusKm": 0}],
        )
    return BadRequest(
        f"Around this point a search may reach at most {max_radius_km} km: the index cells narrow towards the poles "
        f"and a search reads at most {MAX_CELLS} of them.",
        code="RADIUS_TOO_LARGE",
        details=[{"field": "radiusKm", "problem": f"must be <= {max_radius_km} here", "maxRadiusKm": max_radius_km}],
    )


def _search_chunk(
    candidates: list[tuple[float, str, Offer]], position: int, size: int
) -> list[tuple[float, str, Offer]]:
    """The next candidates to read together: at most `size`, and at most one BatchGetItem's 100 keys (their stocks
    and their distinct offerers) unless the first alone needs more."""
    chunk: list[tuple[float, str, Offer]] = []
    keys = 0
    offerer_ids: set[str] = set()
    for candidate in candidates[position : position + size]:
        offer = candidate[2]
        needed = len(offer.stock_ids) + (offer.offerer_id not in offerer_ids)
        if chunk and keys + needed > BATCH_GET_KEYS:
            break
        chunk.append(candidate)
        keys += needed
        offerer_ids.add(offer.offerer_id)
    return chunk


def _encode_search_cursor(distance: float, offer_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([distance, offer_id]).encode()).decode().rstrip("=")


def _decode_search_cursor(cursor: str | None) -> tuple[float, str]:
    if not cursor:
        return (-1.0, "")
    try:
        distance, offer_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return float(distance), str(offer_id)
    except (ValueError, TypeError) as error:
        raise BadRequest("The cursor is not valid.", code="INVALID_CURSOR") from error


def build_offers_service() -> OffersService:
    from pass_culture import aws
    from pass_culture.clock import SystemClock
    from pass_culture.dynamo import Table
    from pass_culture.settings import get_settings

    settings = get_settings()
    table = Table(aws.dynamodb(), settings.table_name)
    images = ImageUploads(aws.client("s3"), settings.files_bucket, settings.images_base_url)
    idempotency = IdempotentRequests(settings.table_name, aws.dynamodb())
    return OffersService(OffersRepository(table), images, SystemClock(), idempotency)
