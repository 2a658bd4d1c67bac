"""Every route of the merged OpenAPI document × every kind of caller, through the local gateway, with a valid and an
invalid input: who may call is answered before the request's shape (401 → 403 → 400 → rules), and nobody reaches
another offerer's things.

The expected status of each cell is derived from the route's declaration (`@allow` in functions/*/app.py) and its
authorizer in template.yaml, never written per cell: a new route is in the matrix as soon as it is deployed, and the
test fails until it has an example request below (`EXAMPLES`).
"""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from infra.local.template import functions, load_template
from pass_culture.access import ADMIN, BENEFICIARY, PRO, Access, access_of
from tests.e2e.conftest import RunningStack
from tests.e2e.test_bookings_flow import BOOKSELLER, YOUNG, auth, bookshop_offer
from tests.e2e.test_collective_flow import later
from tests.e2e.test_collective_flow import matrix_ids as collective_matrix_ids

LIBRARIAN = "mediatheque@saint-ouen-sur-loire.example"
ADMIN_EMAIL = "admin@passculture.local"
CALLERS = ("anonymous", "beneficiary", "pro of another offerer", "API key of another offerer", "pro member", "admin")
INVALID_JSON = {"unexpected": [1, {"deep": None}], "priceCents": True}
CSV = "ean,title,author,publisher,clil\n9782070360024,1984,George Orwell,Gallimard,3435\n"


@dataclass
class World:
    """Offerer A (the seeded bookshop: its pro is "pro member") and B (the seeded library), an offer, a stock and a
    booking of A's, and a token or key for each kind of caller."""

    tokens: dict[str, str | None]
    ids: dict[str, str]
    a_siren: str
    created: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def world(stack: RunningStack) -> World:
    pro_a, pro_b = stack.login(BOOKSELLER), stack.login(LIBRARIAN)
    offerer_a = requests.get(f"{stack.url}/offerers", headers=auth(pro_a), timeout=10).json()["items"][0]
    offerer_b = requests.get(f"{stack.url}/offerers", headers=auth(pro_b), timeout=10).json()["items"][0]
    key_b = requests.post(f"{stack.url}/offerers/{offerer_b['id']}/api-keys", headers=auth(pro_b), timeout=10)
    key_a = requests.post(f"{stack.url}/offerers/{offerer_a['id']}/api-keys", headers=auth(pro_a), timeout=10)
    assert key_a.status_code == key_b.status_code == 201, (key_a.text, key_b.text)
    offer_id, stock_id = bookshop_offer(stack, f"Matrice {uuid.uuid4().hex[:6]}", 0, 50)
    young = stack.login(YOUNG)
    booking = requests.post(f"{stack.url}/bookings", json={"stockId": stock_id}, headers=auth(young), timeout=10)
    assert booking.status_code == 201, booking.text
    return World(
        tokens={
            "anonymous": None,
            "beneficiary": young,
            "pro of another offerer": pro_b,
            "API key of another offerer": key_b.json()["apiKey"],
            "pro member": pro_a,
            "admin": stack.login(ADMIN_EMAIL),
        },
        ids={
            "offererId": offerer_a["id"],
            "venueId": offerer_a["venues"][0]["id"],
            "offerId": offer_id,
            "stockId": stock_id,
            "bookingId": booking.json()["id"],
            "token": booking.json()["token"],
            "apiKeyId": key_a.json()["id"],
            "payoutId": f"{offerer_a['id']}-20261101",  # names A (a payout id names its offerer): none paid yet
            **collective_matrix_ids(stack, pro_a, offerer_a["venues"][0]["id"]),  # collective offers (issue 17)
            "userId": "nobody",  # no member and no request of A's: the member's answer is a 404, nothing removed
            "invitationId": invitation_for_the_member(stack),
        },
        a_siren=offerer_a["siren"],
    )


def invitation_for_the_member(stack: RunningStack) -> str:
    """An invitation sent to "pro member" (the bookseller) by a new pro's new, empty offerer: the bookseller accepts
    it (200), anyone else is refused (403: sent to another email)."""
    from tests.e2e.test_accounts_flow import luhn_complete, new_user

    _, host = new_user(stack, "pro")
    siren = luhn_complete(f"{uuid.uuid4().int % 10**8:08d}")
    created = requests.post(f"{stack.url}/offerers", json={"siren": siren, "name": "Zz Matrice"}, headers=auth(host),
                            timeout=10)  # fmt: skip
    assert created.status_code == 201, created.text
    invited = requests.post(f"{stack.url}/offerers/{created.json()['id']}/invitations", json={"email": BOOKSELLER},
                            headers=auth(host), timeout=10)  # fmt: skip
    assert invited.status_code == 201, invited.text
    return str(invited.json()["id"])


@dataclass(frozen=True)
class Example:
    """A request to a route: a valid one (naming offerer A's things wherever the route takes an id), and an invalid
    variant of its input (None when the route takes no input to get wrong)."""

    body: Callable[[World], Any] | None = None
    query: Callable[[World], dict[str, str]] | None = None
    invalid_body: Any = None
    invalid_query: dict[str, str] | None = None
    content_type: str = "application/json"
    names_offerer_a: bool = False  # in its query or body (path ids always name A's things)


def venue_body(world: World) -> dict[str, Any]:
    nic = f"{uuid.uuid4().int % 10_000:04d}"
    from stdnum import luhn

    siret = world.a_siren + nic
    return {
        "name": "Annexe", "siret": siret + luhn.calc_check_digit(siret), "address": "1 rue", "postalCode": "75003",
        "city": "Paris", "latitude": 48.86, "longitude": 2.35, "bookingEmail": "annexe@librairie.example",
    }  # fmt: skip


def new_siren(_: World) -> dict[str, str]:
    from stdnum import luhn

    prefix = f"{uuid.uuid4().int % 10**8:08d}"
    return {"siren": prefix + luhn.calc_check_digit(prefix), "name": "Nouvelle structure"}


EXAMPLES: dict[tuple[str, str], Example] = {
    ("GET", "/health"): Example(),
    ("GET", "/subcategories"): Example(),
    ("GET", "/offerers"): Example(),
    ("POST", "/offerers"): Example(body=new_siren, invalid_body=INVALID_JSON),
    ("POST", "/admin/offerers/{offererId}/validate"): Example(),
    ("POST", "/offerers/{offererId}/venues"): Example(body=venue_body, invalid_body=INVALID_JSON),
    ("PUT", "/offerers/{offererId}/bank-account"): Example(
        body=lambda _: {"iban": "FR7630006000011234567890189", "bic": "AGRIFRPP", "label": "Compte"},
        invalid_body=INVALID_JSON,
    ),
    ("POST", "/admin/offerers/{offererId}/bank-account/accept"): Example(),
    ("POST", "/offerers/{offererId}/api-keys"): Example(),
    ("GET", "/offerers/{offererId}/api-keys"): Example(),
    ("DELETE", "/offerers/{offererId}/api-keys/{apiKeyId}"): Example(),
    ("POST", "/offerers/{offererId}/invitations"): Example(
        body=lambda _: {"email": f"invite-{uuid.uuid4().hex[:8]}@example.org"}, invalid_body=INVALID_JSON
    ),
    ("POST", "/invitations/{invitationId}/accept"): Example(),
    ("POST", "/offerers/{offererId}/attachments/{userId}/accept"): Example(),
    ("POST", "/offerers/{offererId}/attachments/{userId}/refuse"): Example(),
    ("GET", "/offerers/{offererId}/members"): Example(),
    ("DELETE", "/offerers/{offererId}/members/{userId}"): Example(),
    ("POST", "/beneficiaries"): Example(
        body=lambda _: {
            "email": f"jeune-{uuid.uuid4().hex[:8]}@example.org",
            "firstName": "Léa",
            "lastName": "Martin",
            "birthDate": "2008-01-15",
            "phone": "0600000000",
            "postalCode": "75011",
        },
        invalid_body={**INVALID_JSON, "birthDate": "2008-01-15T00:00:00"},
    ),
    ("GET", "/me"): Example(),
    ("GET", "/offers"): Example(
        query=lambda _: {"lat": "48.859", "lon": "2.356", "radiusKm": "2"}, invalid_query={"lat": "north"}
    ),
    ("GET", "/offers/{offerId}"): Example(),
    ("POST", "/offers"): Example(
        body=lambda w: {"venueId": w.ids["venueId"], "subcategoryId": "SUPPORT_PHYSIQUE_FILM", "name": "DVD"},
        invalid_body=INVALID_JSON,
        names_offerer_a=True,
    ),
    ("PATCH", "/offers/{offerId}"): Example(body=lambda _: {"description": "Coup de cœur"}, invalid_body=INVALID_JSON),
    ("DELETE", "/offers/{offerId}"): Example(),
    ("GET", "/pro/offers/{offerId}"): Example(),
    ("POST", "/offers/{offerId}/image"): Example(
        body=lambda _: {"contentType": "image/png"}, invalid_body=INVALID_JSON
    ),
    ("POST", "/offers/{offerId}/stocks"): Example(
        body=lambda _: {"priceCents": 500, "quantity": 3}, invalid_body=INVALID_JSON
    ),
    ("PATCH", "/stocks/{stockId}"): Example(body=lambda _: {"quantity": 40}, invalid_body=INVALID_JSON),
    ("GET", "/venues/{venueId}/offers"): Example(invalid_query={"limit": "0"}),
    ("POST", "/admin/catalogue"): Example(body=lambda _: CSV, invalid_body=CSV, content_type="text/csv"),
    ("PUT", "/venues/{venueId}/stock-provider"): Example(
        body=lambda _: {"provider": "titelive", "baseUrl": "https://stocks.example/api"}, invalid_body=INVALID_JSON
    ),
    ("DELETE", "/venues/{venueId}/stock-provider"): Example(),
    ("GET", "/venues/{venueId}/stock-imports"): Example(invalid_query={"limit": "0"}),
    ("GET", "/admin/job-runs"): Example(
        query=lambda _: {"job": "auto-validate-bookings"}, invalid_query={"job": "payouts-of-mars"}
    ),
    ("POST", "/venues/{venueId}/stocks/import"): Example(
        body=lambda _: {"stocks": [{"ref": "9782070360024", "available": 2, "price": 8.9}]}, invalid_body=INVALID_JSON
    ),
    ("POST", "/bookings"): Example(
        body=lambda w: {"stockId": w.ids["stockId"], "quantity": 1}, invalid_body=INVALID_JSON, names_offerer_a=True
    ),
    ("GET", "/me/bookings"): Example(invalid_query={"limit": "0"}),
    ("POST", "/bookings/{bookingId}/cancel"): Example(),
    ("GET", "/v2/bookings/token/{token}"): Example(),
    ("PATCH", "/v2/bookings/use/token/{token}"): Example(),
    ("PATCH", "/v2/bookings/keep/token/{token}"): Example(),
    ("PATCH", "/v2/bookings/cancel/token/{token}"): Example(),
    ("GET", "/pro/bookings"): Example(
        query=lambda w: {"offererId": w.ids["offererId"]},
        invalid_query={"status": "NOPE"},
        names_offerer_a=True,
    ),
    ("GET", "/pro/bookings/export"): Example(
        query=lambda w: {"offererId": w.ids["offererId"], "format": "csv"},
        invalid_query={"format": "xlsx"},
        names_offerer_a=True,
    ),
    ("GET", "/pro/reimbursements"): Example(
        query=lambda w: {"offererId": w.ids["offererId"]}, invalid_query={"limit": "0"}, names_offerer_a=True
    ),
    ("GET", "/pro/reimbursements/{payoutId}/bookings"): Example(invalid_query={"cursor": "x" * 2001}),
    # collective offers (issue 17): a teacher's and a head's routes answer 403 to every caller of the matrix
    ("POST", "/admin/institutions"): Example(
        body=lambda _: (
            f"uai,name,type,city,postalCode,departement\n{uuid.uuid4().int % 10**7:07d}M,Lycée,LYCEE,Paris,75011,75\n"
        ),
        invalid_body="x",
        content_type="text/csv",
    ),
    ("PUT", "/admin/institutions/{uai}/budgets/{schoolYear}"): Example(
        body=lambda _: {"amountCents": 200_000}, invalid_body={**INVALID_JSON, "amountCents": "12"}
    ),
    ("POST", "/admin/institutions/{uai}/members"): Example(
        body=lambda _: {"email": f"prof-{uuid.uuid4().hex[:8]}@ac-paris.fr", "role": "teacher"},
        invalid_body={"email": "prof@ac-paris.fr", "role": "pro"},
    ),
    ("POST", "/collective-offers"): Example(
        body=lambda w: {
            "venueId": w.ids["venueId"],
            "subcategoryId": "CONFERENCE",
            "name": "Conférence",
            "students": ["LYCEE_PREMIERE"],
            "domains": ["PATRIMOINE"],
            "contactEmail": "c@librairie.example",
        },
        invalid_body=INVALID_JSON,
        names_offerer_a=True,
    ),
    ("PATCH", "/collective-offers/{collectiveOfferId}"): Example(
        body=lambda _: {"description": "Pour les lycéens"}, invalid_body=INVALID_JSON
    ),
    ("PUT", "/collective-offers/{collectiveOfferId}/stock"): Example(
        body=lambda _: {
            "startDatetime": later(40),
            "bookingLimitDatetime": later(30),
            "numberOfStudents": 20,
            "totalPriceCents": 0,
        },
        invalid_body=INVALID_JSON,
    ),
    ("GET", "/collective-offers"): Example(invalid_query={"sort": "cheapest"}),
    ("POST", "/collective-offers/{collectiveOfferId}/requests"): Example(
        body=lambda _: {"comment": "Une date en mai ?"}, invalid_body=INVALID_JSON
    ),
    ("POST", "/collective-bookings"): Example(
        body=lambda w: {"collectiveStockId": w.ids["collectiveStockId"]},
        invalid_body=INVALID_JSON,
        names_offerer_a=True,
    ),
    ("POST", "/collective-bookings/{collectiveBookingId}/confirm"): Example(),
    ("POST", "/collective-bookings/{collectiveBookingId}/cancel"): Example(),
    ("GET", "/institution/bookings"): Example(invalid_query={"limit": "0"}),
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    authorizer: str  # the template's: CognitoAuthorizer, ApiKeyAuthorizer or NONE
    access: Access
    documented: frozenset[int]


def deployed_routes() -> dict[tuple[str, str], tuple[str, Access]]:
    """Each deployed route's authorizer (template.yaml) and declaration (the handler's `@allow`)."""
    found = {}
    for function in functions(load_template()):
        if not function.routes:
            continue
        module: Any = importlib.import_module(function.module_name)
        declared = {
            (route.method.upper(), route.openapi_path): access_of(route.func)
            for route in module.app._static_routes + module.app._dynamic_routes
        }
        for route in function.routes:
            access = declared.get((route.method, route.path))
            assert access is not None, f"{route.method} {route.path} has no @allow declaration"
            found[(route.method, route.path)] = (route.authorizer, access)
    return found


@pytest.fixture(scope="module")
def routes(stack: RunningStack) -> list[Route]:
    document = requests.get(f"{stack.url}/openapi.json", timeout=30).json()
    deployed = deployed_routes()
    in_document = {(m.upper(), p): op for p, ops in document["paths"].items() for m, op in ops.items()}
    assert set(in_document) == set(deployed), "the merged document and the template disagree"
    missing = sorted(set(deployed) - set(EXAMPLES))
    assert not missing, f"add an example request for {missing}"
    return [
        Route(method, path, *deployed[(method, path)], frozenset(int(s) for s in op["responses"]))
        for (method, path), op in sorted(in_document.items())
    ]


def expected(route: Route, example: Example, caller: str, valid: bool) -> set[int]:
    """The answer a caller must get, from the route's authorizer and declaration alone."""
    access = route.access
    is_key = caller == "API key of another offerer"
    group = {"beneficiary": BENEFICIARY, "pro of another offerer": PRO, "pro member": PRO, "admin": ADMIN}.get(caller)
    # API Gateway: the Cognito authorizer takes only Cognito tokens; the project's authorizer lets in API keys and
    # pros' tokens, and denies any other user.
    if route.authorizer == "CognitoAuthorizer" and (caller == "anonymous" or is_key):
        return {401}
    if route.authorizer == "ApiKeyAuthorizer":
        if caller == "anonymous":
            return {401}
        if group not in (None, PRO):
            return {403}
    if not access.is_public:
        if (is_key and not access.api_key) or (not is_key and group not in access.groups):
            return {403}
        names_a = "{" in route.path or example.names_offerer_a
        staff = group == ADMIN and ADMIN in access.groups
        of_another = caller in ("pro of another offerer", "API key of another offerer") and names_a and not staff
        if of_another and (access.member_of is not None or valid):  # the gate, or else the use case, refuses
            return {403}
    if not valid:
        return {415} if example.content_type != "application/json" else {400}
    allowed = set(route.documented) - {401, 403}
    if caller == "pro member" or access.is_public or (group == ADMIN and ADMIN in access.groups):
        return allowed
    return allowed | {403}  # e.g. a beneficiary booking, refused by a rule of the use case (not registered)


def call(stack: RunningStack, world: World, route: Route, example: Example, caller: str, valid: bool) -> Any:
    path = route.path
    for name, value in world.ids.items():
        path = path.replace("{" + name + "}", value)
    headers = {"Content-Type": example.content_type}
    token = world.tokens[caller]
    if token:
        headers |= auth(token)
    query = example.query(world) if example.query else {}
    if not valid:
        query |= example.invalid_query or {}  # the invalid variant still names A's things where the valid one does
    if valid:
        body = example.body(world) if example.body else None
    elif example.content_type != "application/json":
        body, headers["Content-Type"] = json.dumps(INVALID_JSON), "application/json"
    else:
        body = example.invalid_body
    data = body if isinstance(body, str) else (json.dumps(body) if body is not None else None)
    return requests.request(route.method, f"{stack.url}{path}", params=query, data=data, headers=headers, timeout=30)


def test_every_route_answers_every_caller_in_the_order_401_403_400_rules(
    stack: RunningStack, world: World, routes: list[Route]
) -> None:
    wrong: list[str] = []
    cells = 0
    # Refused callers first: they must change nothing, and the state the allowed ones then change is theirs.
    for valid in (False, True):
        for caller in CALLERS:
            for route in routes:
                example = EXAMPLES[(route.method, route.path)]
                nothing_to_get_wrong = example.invalid_body is None and example.invalid_query is None
                if not valid and nothing_to_get_wrong and example.content_type == "application/json":
                    continue
                answer = call(stack, world, route, example, caller, valid)
                cells += 1
                want = expected(route, example, caller, valid)
                server_error = answer.status_code >= 500 and answer.status_code != 501  # 501: declared, not built
                if answer.status_code not in want or server_error:
                    wrong.append(
                        f"{route.method} {route.path} as {caller} ({'valid' if valid else 'invalid'}): "
                        f"{answer.status_code} {answer.text[:160]} — expected {sorted(want)}"
                    )
    assert not wrong, f"{len(wrong)} of {cells} cells:\n" + "\n".join(wrong)
    assert cells > 6 * len(routes)
