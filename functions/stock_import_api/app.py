"""Stock import API (issue #10): a pro connects a venue to its stock software (checked with the provider), pushes
lines in the provider's format (a pro of the venue, or the offerer's API key), reads the import runs' reports."""

from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.access import PRO, allow, venue_in_path
from pass_culture.accounts.ownership import build_ownership_repository
from pass_culture.http import build_resolver
from pass_culture.observability import API, entry
from pass_culture.settings import require_at_init
from pass_culture.stock_import.models import StockProviderInput, StockPushInput
from pass_culture.stock_import.venues import StockImportVenues, build_stock_import_venues

require_at_init()  # else the init fails (the table too)

app = build_resolver(cache(build_ownership_repository))
VENUE = venue_in_path()


@cache
def service() -> StockImportVenues:
    return build_stock_import_venues()


@app.put("/venues/<venueId>/stock-provider")
@allow(PRO, member_of=VENUE, errors=(422,))
def connect_stock_provider(venueId: str, body: StockProviderInput) -> dict[str, Any]:  # noqa: N803
    return service().connect(venueId, body)


@app.delete("/venues/<venueId>/stock-provider", status_code=204)
@allow(PRO, member_of=VENUE)
def disconnect_stock_provider(venueId: str) -> Response[str]:  # noqa: N803
    service().disconnect(venueId)
    return Response(status_code=204, body="")


@app.post("/venues/<venueId>/stocks/import", status_code=202)
@allow(PRO, api_key=True, member_of=VENUE, errors=(413,))
def push_stocks(venueId: str, body: StockPushInput) -> dict[str, Any]:  # noqa: N803
    return service().push(venueId, body)


@app.get("/venues/<venueId>/stock-imports")
@allow(PRO, member_of=VENUE)
def stock_imports(
    venueId: str,  # noqa: N803
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    return service().reports(venueId, limit, cursor)


@entry(API)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
