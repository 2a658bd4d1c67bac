"""Accounts API: offerers and their collaborators, venues, bank accounts, API keys, beneficiaries and their credit.
Thin: `@allow` says who may call (checked first), Powertools validates, the accounts service decides."""

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.access import ADMIN, BENEFICIARY, PRO, allow, offerer_in_path
from pass_culture.accounts.collaborators import CollaboratorsService, build_collaborators_service, request_to_api
from pass_culture.accounts.models import (
    BankAccountInput,
    CreateBeneficiaryInput,
    CreateOffererInput,
    CreateVenueInput,
    InvitationInput,
    Person,
)
from pass_culture.accounts.ownership import build_ownership_repository
from pass_culture.accounts.service import AccountsService, build_accounts_service
from pass_culture.http import build_resolver, caller_of
from pass_culture.observability import API, entry
from pass_culture.settings import require_at_init

require_at_init("user_pool_id")  # else the init fails (the table too)

app = build_resolver(cache(build_ownership_repository))
MEMBER = offerer_in_path()


@cache
def service() -> AccountsService:
    return build_accounts_service()


@cache
def collaborators() -> CollaboratorsService:
    return build_collaborators_service(service())


def person() -> Person:
    """Who calls, as their ID token says it (Cognito puts the names there when the account has them)."""
    caller = caller_of(app)
    claims = (app.current_event.request_context.authorizer.raw_event or {}).get("claims") or {}
    return Person(
        user_id=str(caller.user_id), email=caller.email.lower() if caller.email else None,
        first_name=claims.get("given_name") or None, last_name=claims.get("family_name") or None,
    )  # fmt: skip


@app.get("/offerers")
@allow(PRO)
def my_offerers() -> dict[str, Any]:
    return {"items": service().my_offerers(caller_of(app))}


@app.post("/offerers", status_code=201, responses={202: {"description": "A request to join the SIREN's offerer"}})
@allow(PRO, errors=(409,))
def create_offerer(body: CreateOffererInput) -> Response[str]:
    status, answer = collaborators().declare_offerer(caller_of(app), person(), body)
    return Response(status, "application/json", json.dumps(answer, ensure_ascii=False))


@app.post("/offerers/<offererId>/invitations", status_code=201)
@allow(PRO, member_of=MEMBER, errors=(409,))
def invite(offererId: str, body: InvitationInput) -> dict[str, Any]:  # noqa: N803 - the contract's path parameter name
    return collaborators().invite(caller_of(app), offererId, body.email).to_api()


@app.post("/invitations/<invitationId>/accept")
@allow(PRO, errors=(409, 410))
def accept_invitation(invitationId: str) -> dict[str, Any]:  # noqa: N803
    return collaborators().accept_invitation(caller_of(app), person(), invitationId).to_api()


@app.post("/offerers/<offererId>/attachments/<userId>/accept")
@allow(PRO, ADMIN, member_of=MEMBER, errors=(409,))
def accept_attachment(offererId: str, userId: str) -> dict[str, Any]:  # noqa: N803
    return request_to_api(collaborators().decide(caller_of(app), offererId, userId, accept=True))


@app.post("/offerers/<offererId>/attachments/<userId>/refuse")
@allow(PRO, ADMIN, member_of=MEMBER, errors=(409,))
def refuse_attachment(offererId: str, userId: str) -> dict[str, Any]:  # noqa: N803
    return request_to_api(collaborators().decide(caller_of(app), offererId, userId, accept=False))


@app.get("/offerers/<offererId>/members")
@allow(PRO, member_of=MEMBER)
def members(offererId: str) -> dict[str, Any]:  # noqa: N803
    return collaborators().team(caller_of(app), offererId)


@app.delete("/offerers/<offererId>/members/<userId>", status_code=204)
@allow(PRO, member_of=MEMBER, errors=(409,))
def remove_member(offererId: str, userId: str) -> Response[str]:  # noqa: N803
    collaborators().remove(caller_of(app), offererId, userId)
    return Response(status_code=204, body="")


@app.post("/admin/offerers/<offererId>/validate")
@allow(ADMIN)
def validate_offerer(offererId: str) -> dict[str, Any]:  # noqa: N803 - the contract's path parameter name
    return service().validate_offerer(caller_of(app), offererId).to_api()


@app.post("/offerers/<offererId>/venues", status_code=201)
@allow(PRO, member_of=MEMBER, errors=(409, 422))
def create_venue(offererId: str, body: CreateVenueInput) -> dict[str, Any]:  # noqa: N803
    return service().create_venue(caller_of(app), offererId, body).to_api()


@app.put("/offerers/<offererId>/bank-account")
@allow(PRO, member_of=MEMBER)
def put_bank_account(offererId: str, body: BankAccountInput) -> dict[str, Any]:  # noqa: N803
    return service().put_bank_account(caller_of(app), offererId, body).to_api()


@app.post("/admin/offerers/<offererId>/bank-account/accept")
@allow(ADMIN)
def accept_bank_account(offererId: str) -> dict[str, Any]:  # noqa: N803
    return service().accept_bank_account(caller_of(app), offererId).to_api()


@app.post("/offerers/<offererId>/api-keys", status_code=201)
@allow(PRO, member_of=MEMBER, errors=(409,))
def create_api_key(offererId: str) -> dict[str, Any]:  # noqa: N803
    return service().create_api_key(caller_of(app), offererId).to_api()


@app.get("/offerers/<offererId>/api-keys")
@allow(PRO, member_of=MEMBER)
def list_api_keys(offererId: str) -> dict[str, Any]:  # noqa: N803
    return {"items": service().list_api_keys(caller_of(app), offererId)}


@app.delete("/offerers/<offererId>/api-keys/<apiKeyId>", status_code=204)
@allow(PRO, member_of=MEMBER)
def revoke_api_key(offererId: str, apiKeyId: str) -> Response[str]:  # noqa: N803
    service().revoke_api_key(caller_of(app), offererId, apiKeyId)
    return Response(status_code=204, body="")


@app.post("/beneficiaries", status_code=201)
@allow(ADMIN, errors=(409, 422))
def create_beneficiary(body: CreateBeneficiaryInput) -> dict[str, Any]:
    return service().register_beneficiary(caller_of(app), body)


@app.get("/me")
@allow(BENEFICIARY, errors=(404,))
def me() -> dict[str, Any]:
    return service().me(caller_of(app))


@entry(API)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
