"""Bookings API: book (one transaction with stock and credit), cancel, the beneficiary's bookings. The use
cases arrive with issue #5; until then every route checks who may call it, then answers 501."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.errors import NotImplementedYet
from pass_culture.http import build_resolver, caller_of

logger = Logger()
app = build_resolver()
PENDING = NotImplementedYet("Bookings arrive with issue #5.")


@app.post("/bookings")
def book() -> None:
    caller_of(app).require("beneficiary")
    raise PENDING


@app.get("/me/bookings")
def my_bookings() -> None:
    caller_of(app).require("beneficiary")
    raise PENDING


@app.post("/bookings/<bookingId>/cancel")
def cancel_booking(bookingId: str) -> None:  # noqa: N803 - the contract's path parameter names
    caller_of(app).require("beneficiary")
    raise PENDING


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
