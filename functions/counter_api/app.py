"""Counter API: the countermark API (pros and venue software), booking tracking, CSV export, payouts list.
The use cases arrive with issues #6 and the payouts issue; until then every route checks who may call it, then
answers 501."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.errors import NotImplementedYet
from pass_culture.http import build_resolver, caller_of

logger = Logger()
app = build_resolver()
PENDING = NotImplementedYet("The counter arrives with issue #6.")


@app.get("/v2/bookings/token/<token>")
def get_booking_by_token(token: str) -> None:
    caller_of(app).require_pro_or_api_key()
    raise PENDING


@app.patch("/v2/bookings/use/token/<token>")
def use_booking(token: str) -> None:
    caller_of(app).require_pro_or_api_key()
    raise PENDING


@app.patch("/v2/bookings/keep/token/<token>")
def keep_booking(token: str) -> None:
    caller_of(app).require_pro_or_api_key()
    raise PENDING


@app.patch("/v2/bookings/cancel/token/<token>")
def cancel_booking_by_venue(token: str) -> None:
    caller_of(app).require_pro_or_api_key()
    raise PENDING


@app.get("/pro/bookings")
def pro_bookings() -> None:
    caller_of(app).require("pro")
    raise PENDING


@app.get("/pro/bookings/export")
def pro_bookings_export() -> None:
    caller_of(app).require("pro")
    raise PENDING


@app.get("/pro/reimbursements")
def pro_reimbursements() -> None:
    caller_of(app).require("pro")
    raise PENDING


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
