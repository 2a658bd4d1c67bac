"""Bookings API: book (one transaction with stock and credit), cancel, the beneficiary's bookings (issue #5)."""

from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.access import BENEFICIARY, allow
from pass_culture.bookings.models import BookInput
from pass_culture.bookings.service import BookingsService, build_bookings_service
from pass_culture.http import IdempotencyKey, build_resolver, caller_of
from pass_culture.idempotency import valid_idempotency_key
from pass_culture.observability import API, count, entry, logger
from pass_culture.settings import require_at_init

require_at_init()  # else the init fails (the table too)

app = build_resolver()


@cache
def service() -> BookingsService:
    return build_bookings_service()


@app.post("/bookings", status_code=201)
@allow(BENEFICIARY, errors=(404, 409, 422))
def book(body: BookInput, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    key = valid_idempotency_key(idempotency_key)
    booking = service().book_once(caller_of(app), body, key)
    logger.append_keys(booking_id=booking.get("id"))
    count("BookingsCreated")  # a replay of the same key too: it is a successful answer the client asked for
    return booking


@app.get("/me/bookings")
@allow(BENEFICIARY)
def my_bookings(limit: Annotated[int, Query(ge=1, le=100)] = 20, cursor: str | None = None) -> dict[str, Any]:
    return service().my_bookings(caller_of(app), limit, cursor)


@app.post("/bookings/<bookingId>/cancel")
@allow(BENEFICIARY, errors=(409,))
def cancel_booking(bookingId: str) -> dict[str, Any]:  # noqa: N803 - the contract's path parameter name
    cancelled = service().cancel(caller_of(app), bookingId)
    count("BookingsCancelled")
    return cancelled


@entry(API)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if service().idempotency is not None:
        service().idempotency.config.register_lambda_context(context)  # type: ignore[union-attr]
    return app.resolve(event, context)
