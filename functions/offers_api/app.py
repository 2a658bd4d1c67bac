"""Offers API: offer and stock CRUD for pros, the book catalogue, search around a point for everyone (issue #4).
The stock import routes arrive with the stock import issue: until then they check who calls, then answer 501."""

from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.errors import NotImplementedYet
from pass_culture.http import build_resolver, caller_of
from pass_culture.idempotency import valid_idempotency_key
from pass_culture.offers.models import (
    CreateOfferInput,
    CreateStockInput,
    ImageUploadInput,
    UpdateOfferInput,
    UpdateStockInput,
)
from pass_culture.offers.service import OffersService, SearchQuery, build_offers_service

logger = Logger()
app = build_resolver()
Answer = tuple[dict[str, Any], int]
Limit = Annotated[int, Query(ge=1, le=100)]


@cache
def service() -> OffersService:
    return build_offers_service()


@app.get("/offers")
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
def get_offer(offerId: str) -> dict[str, Any]:  # noqa: N803
    return service().get_offer(offerId)


@app.post("/offers")
def create_offer(body: CreateOfferInput) -> Answer:
    key = valid_idempotency_key(app.current_event.headers.get("Idempotency-Key"))
    return service().create_offer_once(caller_of(app), body, key), 201


@app.patch("/offers/<offerId>")
def update_offer(offerId: str, body: UpdateOfferInput) -> dict[str, Any]:  # noqa: N803
    return service().update_offer(caller_of(app), offerId, body)


@app.delete("/offers/<offerId>")
def deactivate_offer(offerId: str) -> Response[str]:  # noqa: N803
    service().deactivate_offer(caller_of(app), offerId)
    return Response(status_code=204, body="")


@app.post("/offers/<offerId>/image")
def offer_image_upload(offerId: str, body: ImageUploadInput) -> Answer:  # noqa: N803
    return service().image_upload(caller_of(app), offerId, body), 201


@app.post("/offers/<offerId>/stocks")
def create_stock(offerId: str, body: CreateStockInput) -> Answer:  # noqa: N803
    return service().add_stock(caller_of(app), offerId, body), 201


@app.patch("/stocks/<stockId>")
def update_stock(stockId: str, body: UpdateStockInput) -> dict[str, Any]:  # noqa: N803
    return service().update_stock(caller_of(app), stockId, body)


@app.get("/venues/<venueId>/offers")
def venue_offers(venueId: str, limit: Limit = 20, cursor: str | None = None) -> dict[str, Any]:  # noqa: N803
    return service().venue_offers(caller_of(app), venueId, limit, cursor)


@app.post("/admin/catalogue")
def load_catalogue() -> dict[str, Any]:
    return service().load_catalogue(caller_of(app), app.current_event.decoded_body or "")


@app.put("/venues/<venueId>/stock-provider")
def connect_stock_provider(venueId: str) -> None:  # noqa: N803
    caller_of(app).require("pro")
    raise NotImplementedYet("The stock import arrives with its own issue.")


@app.post("/venues/<venueId>/stocks/import")
def push_stocks(venueId: str) -> None:  # noqa: N803
    caller_of(app).require_pro_or_api_key()
    raise NotImplementedYet("The stock import arrives with its own issue.")


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if service().idempotency is not None:
        service().idempotency.config.register_lambda_context(context)  # type: ignore[union-attr]
    return app.resolve(event, context)
