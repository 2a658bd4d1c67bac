"""Counter API: the countermark API for pros and venue software (compatible with the public pass Culture API),
the pros' booking tracking and its CSV export (issue #6), the pros' reimbursements (issue #12)."""

from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.access import PRO, allow, offerer_in_query, payout_in_path
from pass_culture.accounts.ownership import build_ownership_repository
from pass_culture.bookings.tracking import BookingFilters, TrackingService, build_tracking_service
from pass_culture.counter.service import CounterService, build_counter_service
from pass_culture.http import build_resolver, caller_of
from pass_culture.observability import API, count, entry
from pass_culture.payouts.reimbursements import Reimbursements, build_reimbursements
from pass_culture.settings import require_at_init

require_at_init("files_bucket")  # else the init fails (the table too)

app = build_resolver(cache(build_ownership_repository))
NO_CONTENT = Response(status_code=204, body="")
# The countermark routes: a pro's token or an offerer API key; the token's offerer is checked by the use case, in
# the order of the domain rules (404 unknown, 403 another offerer's, …, 429 too many failed look-ups).
COUNTER = allow(PRO, api_key=True, errors=(404, 410, 429))
CSV: dict[int, Any] = {200: {"description": "OK", "content": {"text/csv": {"schema": {"type": "string"}}}}}


@cache
def counter() -> CounterService:
    return build_counter_service()


@cache
def tracking() -> TrackingService:
    return build_tracking_service()


@cache
def reimbursements() -> Reimbursements:
    return build_reimbursements()


@app.get("/v2/bookings/token/<token>")
@COUNTER
def get_booking_by_token(token: str) -> dict[str, Any]:
    return counter().look_up(caller_of(app), token)


@app.patch("/v2/bookings/use/token/<token>", status_code=204)
@COUNTER
def use_booking(token: str) -> Response[str]:
    counter().use(caller_of(app), token)
    count("BookingsValidated")
    return NO_CONTENT


@app.patch("/v2/bookings/keep/token/<token>", status_code=204)
@COUNTER
def keep_booking(token: str) -> Response[str]:
    counter().keep(caller_of(app), token)
    count("ValidationsUndone")
    return NO_CONTENT


@app.patch("/v2/bookings/cancel/token/<token>", status_code=204)
@COUNTER
def cancel_booking_by_venue(token: str) -> Response[str]:
    counter().cancel(caller_of(app), token)
    count("BookingsCancelled")
    return NO_CONTENT


Filters = Annotated[BookingFilters, Query()]


@app.get("/pro/bookings")
@allow(PRO, member_of=offerer_in_query())
def pro_bookings(
    filters: Filters, limit: Annotated[int, Query(ge=1, le=100)] = 20, cursor: str | None = None
) -> dict[str, Any]:
    return tracking().bookings(caller_of(app), filters, limit, cursor)


@app.get("/pro/bookings/export", responses=CSV)
@allow(PRO, member_of=offerer_in_query())
def pro_bookings_export(
    filters: Filters,
    format: Annotated[str, Query(pattern="^csv$")] = "csv",
) -> Response[str]:
    body = tracking().export_csv(caller_of(app), filters)
    headers = {"Content-Disposition": 'attachment; filename="reservations-pass-culture.csv"'}
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body=body, headers=headers)


Cursor = Annotated[str | None, Query(max_length=2000)]


@app.get("/pro/reimbursements")
@allow(PRO, member_of=offerer_in_query())
def pro_reimbursements(
    offererId: Annotated[str, Query(min_length=1, max_length=128)],  # noqa: N803 - the contract's name
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return reimbursements().payouts(offererId, limit, cursor)


@app.get("/pro/reimbursements/<payoutId>/bookings")
@allow(PRO, member_of=payout_in_path())
def pro_reimbursed_bookings(payoutId: str, cursor: Cursor = None) -> dict[str, Any]:  # noqa: N803
    return reimbursements().bookings(payoutId, cursor)


@entry(API)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
