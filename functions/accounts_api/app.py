"""Accounts API: offerers, venues, bank accounts, API keys, beneficiaries and their credit (issue #3).
Thin: Powertools validates the body, `caller_of` says who calls, the accounts service decides."""

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.accounts.models import BankAccountInput, CreateBeneficiaryInput, CreateOffererInput, CreateVenueInput
from pass_culture.accounts.service import AccountsService, build_accounts_service
from pass_culture.http import build_resolver, caller_of

logger = Logger()
app = build_resolver()
Answer = tuple[dict[str, Any], int]


@cache
def service() -> AccountsService:
    return build_accounts_service()


@app.post("/offerers")
def create_offerer(body: CreateOffererInput) -> Answer:
    return service().create_offerer(caller_of(app), body).to_api(), 201


@app.post("/admin/offerers/<offererId>/validate")
def validate_offerer(offererId: str) -> dict[str, Any]:  # noqa: N803 - the contract's path parameter name
    return service().validate_offerer(caller_of(app), offererId).to_api()


@app.post("/offerers/<offererId>/venues")
def create_venue(offererId: str, body: CreateVenueInput) -> Answer:  # noqa: N803
    return service().create_venue(caller_of(app), offererId, body).to_api(), 201


@app.put("/offerers/<offererId>/bank-account")
def put_bank_account(offererId: str, body: BankAccountInput) -> dict[str, Any]:  # noqa: N803
    return service().put_bank_account(caller_of(app), offererId, body).to_api()


@app.post("/admin/offerers/<offererId>/bank-account/accept")
def accept_bank_account(offererId: str) -> dict[str, Any]:  # noqa: N803
    return service().accept_bank_account(caller_of(app), offererId).to_api()


@app.post("/offerers/<offererId>/api-keys")
def create_api_key(offererId: str) -> Answer:  # noqa: N803
    return service().create_api_key(caller_of(app), offererId).to_api(), 201


@app.get("/offerers/<offererId>/api-keys")
def list_api_keys(offererId: str) -> dict[str, Any]:  # noqa: N803
    return {"items": service().list_api_keys(caller_of(app), offererId)}


@app.delete("/offerers/<offererId>/api-keys/<apiKeyId>")
def revoke_api_key(offererId: str, apiKeyId: str) -> Response[str]:  # noqa: N803
    service().revoke_api_key(caller_of(app), offererId, apiKeyId)
    return Response(status_code=204, body="")


@app.post("/beneficiaries")
def create_beneficiary(body: CreateBeneficiaryInput) -> Answer:
    return service().register_beneficiary(caller_of(app), body), 201


@app.get("/me")
def me() -> dict[str, Any]:
    return service().me(caller_of(app))


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
