"""Offers API: offer and stock CRUD for pros, the book catalogue, search around a point. The use cases
arrive with issue #4; until then every route checks who may call it, then answers 501."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.errors import NotImplementedYet
from pass_culture.http import build_resolver, caller_of

logger = Logger()
app = build_resolver()
PENDING = NotImplementedYet("Offers and stocks arrive with issue #4.")


@app.get("/offers")
def search_offers() -> None:
    raise PENDING


@app.get("/offers/<offerId>")
def get_offer(offerId: str) -> None:  # noqa: N803 - the contract's path parameter names
    raise PENDING


@app.post("/offers")
def create_offer() -> None:
    caller_of(app).require("pro")
    raise PENDING


@app.patch("/offers/<offerId>")
def update_offer(offerId: str) -> None:  # noqa: N803 - the contract's path parameter names
    caller_of(app).require("pro")
    raise PENDING


@app.delete("/offers/<offerId>")
def deactivate_offer(offerId: str) -> None:  # noqa: N803 - the contract's path parameter names
    caller_of(app).require("pro")
    raise PENDING


@app.post("/offers/<offerId>/image")
def offer_image_upload(offerId: str) -> None:  # noqa: N803 - the contract's path parameter names
    caller_of(app).require("pro")
    raise PENDING


@app.post("/offers/<offerId>/stocks")
def create_stock(offerId: str) -> None:  # noqa: N803 - the contract's path parameter names
    caller_of(app).require("pro")
    raise PENDING


@app.patch("/stocks/<stockId>")
def update_stock(stockId: str) -> None:  # noqa: N803 - the contract's path parameter names
    caller_of(app).require("pro")
    raise PENDING


@app.get("/venues/<venueId>/offers")
def venue_offers(venueId: str) -> None:  # noqa: N803 - the contract's path parameter names
    caller_of(app).require("pro")
    raise PENDING


@app.post("/admin/catalogue")
def load_catalogue() -> None:
    caller_of(app).require("admin")
    raise PENDING


@app.put("/venues/<venueId>/stock-provider")
def connect_stock_provider(venueId: str) -> None:  # noqa: N803 - the contract's path parameter names
    caller_of(app).require("pro")
    raise PENDING


@app.post("/venues/<venueId>/stocks/import")
def push_stocks(venueId: str) -> None:  # noqa: N803 - the contract's path parameter names
    caller_of(app).require_pro_or_api_key()
    raise PENDING


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
