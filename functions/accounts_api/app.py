"""Accounts API: offerers, venues, bank accounts, API keys, beneficiaries. The use cases arrive with issue #3;
until then every route checks who may call it, then answers 501."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.errors import NotImplementedYet
from pass_culture.http import build_resolver, caller_of

logger = Logger()
app = build_resolver()
PENDING = NotImplementedYet("Accounts arrive with issue #3.")


@app.post("/offerers")
def create_offerer() -> None:
    caller_of(app).require("pro")
    raise PENDING


@app.post("/admin/offerers/<offererId>/validate")
def validate_offerer(offererId: str) -> None:  # noqa: N803 - the contract's path parameter name
    caller_of(app).require("admin")
    raise PENDING


@app.post("/offerers/<offererId>/venues")
def create_venue(offererId: str) -> None:  # noqa: N803
    caller_of(app).require("pro")
    raise PENDING


@app.put("/offerers/<offererId>/bank-account")
def put_bank_account(offererId: str) -> None:  # noqa: N803
    caller_of(app).require("pro")
    raise PENDING


@app.post("/admin/offerers/<offererId>/bank-account/accept")
def accept_bank_account(offererId: str) -> None:  # noqa: N803
    caller_of(app).require("admin")
    raise PENDING


@app.post("/offerers/<offererId>/api-keys")
def create_api_key(offererId: str) -> None:  # noqa: N803
    caller_of(app).require("pro")
    raise PENDING


@app.delete("/offerers/<offererId>/api-keys/<apiKeyId>")
def revoke_api_key(offererId: str, apiKeyId: str) -> None:  # noqa: N803
    caller_of(app).require("pro")
    raise PENDING


@app.post("/beneficiaries")
def create_beneficiary() -> None:
    caller_of(app).require("admin")
    raise PENDING


@app.get("/me")
def me() -> None:
    caller_of(app).require("beneficiary")
    raise PENDING


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
