"""Offers API: offer and stock CRUD for pros, the book catalogue, search around a point for everyone (issue #4)."""

from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.access import ADMIN, PRO, allow, offer_in_path, stock_in_path, venue_in_path
from pass_culture.accounts.ownership import build_ownership_repository
from pass_culture.http import IdempotencyKey, build_resolver, caller_of
from pass_culture.idempotency import valid_idempotency_key
from pass_culture.observability import API, entry
from pass_culture.offers.models import (
    CreateOfferInput,
    CreateStockInput,
    ImageUploadInput,
    UpdateOfferInput,
    UpdateStockInput,
)
from pass_culture.offers.service import OffersService, SearchQuery, build_offers_service
from pass_culture.settings import require_at_init

require_at_init("files_bucket")  # else the init fails (the table too)

app = build_resolver(cache(build_ownership_repository))
Limit = Annotated[int, Query(ge=1, le=100)]


@cache
def service() -> OffersService:
    return build_offers_service()


@app.get("/offers")
@allow()
def search_offers(
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    radiusKm: Annotated[float, Query(gt=0, le=100)],  # noqa: N803 - the contract's query parameter names
    subcategoryId: str | None = None,  # noqa: N803
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 20,
    cursor: str | None = None,
) -> dict[str, Any]:
    return service().search(SearchQuery(lat, lon, radiusKm, subcategoryId, q, limit, cursor))


@app.get("/offers/<offerId>")
@allow()
def get_offer(offerId: str) -> dict[str, Any]:  # noqa: N803
    return service().get_offer(offerId)


@app.post("/offers", status_code=201)
@allow(PRO, errors=(409, 422))
def create_offer(body: CreateOfferInput, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    key = valid_idempotency_key(idempotency_key)
    return service().create_offer_once(caller_of(app), body, key)


@app.patch("/offers/<offerId>")
@allow(PRO, member_of=offer_in_path(), errors=(422,))
def update_offer(offerId: str, body: UpdateOfferInput) -> dict[str, Any]:  # noqa: N803
    return service().update_offer(caller_of(app), offerId, body)


@app.delete("/offers/<offerId>", status_code=204)
@allow(PRO, member_of=offer_in_path())
def deactivate_offer(offerId: str) -> Response[str]:  # noqa: N803
    service().deactivate_offer(caller_of(app), offerId)
    return Response(status_code=204, body="")


@app.post("/offers/<offerId>/image", status_code=201)
@allow(PRO, member_of=offer_in_path())
def offer_image_upload(offerId: str, body: ImageUploadInput) -> dict[str, Any]:  # noqa: N803
    return service().image_upload(caller_of(app), offerId, body)


@app.post("/offers/<offerId>/stocks", status_code=201)
@allow(PRO, member_of=offer_in_path(), errors=(422,))
def create_stock(offerId: str, body: CreateStockInput) -> dict[str, Any]:  # noqa: N803
    return service().add_stock(caller_of(app), offerId, body)


@app.patch("/stocks/<stockId>")
@allow(PRO, member_of=stock_in_path(), errors=(409, 422))
def update_stock(stockId: str, body: UpdateStockInput) -> dict[str, Any]:  # noqa: N803
    return service().update_stock(caller_of(app), stockId, body)


@app.get("/venues/<venueId>/offers")
@allow(PRO, member_of=venue_in_path())
def venue_offers(venueId: str, limit: Limit = 20, cursor: str | None = None) -> dict[str, Any]:  # noqa: N803
    return service().venue_offers(caller_of(app), venueId, limit, cursor)


@app.get("/pro/offers/<offerId>")
@allow(PRO, member_of=offer_in_path())
def pro_offer(offerId: str) -> dict[str, Any]:  # noqa: N803
    return service().pro_offer(caller_of(app), offerId)


@app.post("/admin/catalogue")
@allow(ADMIN, raw_body="text/csv")
def load_catalogue() -> dict[str, Any]:
    return service().load_catalogue(caller_of(app), app.current_event.decoded_body or "")


@entry(API)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if service().idempotency is not None:
        service().idempotency.config.register_lambda_context(context)  # type: ignore[union-attr]
    return app.resolve(event, context)
