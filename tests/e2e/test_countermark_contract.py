"""The countermark API's contract, replayed from the real pass Culture API's own tests (pcapi
`api/tests/routes/public/booking_token/v2/`; docs/countermark-compatibility.md) against the `/v2` routes through the
local gateway: every state of a booking, for venue software with its API key and for a pro with HTTP Basic
`email:password` — status codes, error keys and French messages byte for byte, the GetBookingResponse's fields and
types. A client written against the real API reads these answers unchanged."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import requests

from pass_culture.clock import SystemClock, paris_date, paris_midnight, parse_instant
from tests.e2e.conftest import PASSWORD, RunningStack
from tests.e2e.test_accounts_flow import luhn_complete, new_user
from tests.e2e.test_bookings_flow import BOOKSELLER, auth, bookshop_offer
from tests.e2e.test_daily_jobs_flow import run_job, young_person
from tests.e2e.test_payouts_flow import next_payout_day

NOT_FOUND = {"global": ["Cette contremarque n'a pas été trouvée"]}
NOT_YOURS = {"user": ["Vous n’avez pas les droits suffisants pour valider cette contremarque car cette réservation "
                      "n'a pas été faite sur une de vos offres, ou que votre rattachement à la structure est encore "
                      "en cours de validation"]}  # fmt: skip
REIMBURSED = {"payment": ["Cette réservation a été remboursée"]}
USED = {"booking": ["Cette réservation a déjà été validée"]}
CANCELLED = {"booking_cancelled": ["Cette réservation a été annulée"]}
CALLERS = ["api key", "basic"]


@dataclass
class Contract:
    """One offerer's bookings in every state, and its caller: venue software with the offerer's API key, or its pro
    with Basic auth. One offerer each: our limit on failed look-ups (ours, not the real API's) counts per offerer."""

    stack: RunningStack
    headers: dict[str, str]
    tokens: dict[str, str]  # state -> countermark
    event_limit_shown: str  # the too-early date as the real API writes it, in the venue's time zone (Réunion)


def book(stack: RunningStack, stock_id: str) -> str:
    return str(booked(stack, stock_id)["token"])


def booked(stack: RunningStack, stock_id: str) -> dict[str, Any]:
    _, token = young_person(stack)
    answer = requests.post(f"{stack.url}/bookings", json={"stockId": stock_id}, headers=auth(token), timeout=10)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def an_offerer(stack: RunningStack, caller: str) -> tuple[Contract, str]:
    """An offerer in Réunion with an accepted bank account, its caller, and a thing's and an event's stocks."""
    email, pro_token = new_user(stack, "pro")
    pro, admin = auth(pro_token), auth(stack.login("admin@passculture.local"))
    siren = luhn_complete(str(uuid.uuid4().int)[:8])
    offerer_id = requests.post(f"{stack.url}/offerers", json={"siren": siren, "name": "Ciné Réunion"}, headers=pro,
                               timeout=10).json()["id"]  # fmt: skip
    requests.post(f"{stack.url}/admin/offerers/{offerer_id}/validate", headers=admin, timeout=10).raise_for_status()
    venue = {"name": "Ciné Lacaze", "siret": luhn_complete(siren + "0001"), "address": "5 rue de Paris",
             "postalCode": "97400", "city": "Saint-Denis", "latitude": -20.88, "longitude": 55.45,
             "bookingEmail": "cine@reunion.example"}  # fmt: skip
    venue_id = requests.post(f"{stack.url}/offerers/{offerer_id}/venues", json=venue, headers=pro, timeout=10).json()[
        "id"
    ]
    account = {"iban": "FR7630006000011234567890189", "bic": "AGRIFRPP", "label": "Compte"}
    requests.put(f"{stack.url}/offerers/{offerer_id}/bank-account", json=account, headers=pro, timeout=10)
    requests.post(f"{stack.url}/admin/offerers/{offerer_id}/bank-account/accept", headers=admin, timeout=10)
    if caller == "api key":
        api_key = requests.post(f"{stack.url}/offerers/{offerer_id}/api-keys", headers=pro, timeout=10).json()["apiKey"]
        headers = {"Authorization": f"Bearer {api_key}"}
    else:
        headers = {"Authorization": "Basic " + base64.b64encode(f"{email}:{PASSWORD}".encode()).decode()}

    def stock(subcategory: str, **stock_fields: Any) -> str:
        offer = requests.post(f"{stack.url}/offers", headers=pro, timeout=10, json={
            "venueId": venue_id, "subcategoryId": subcategory, "name": f"Offre {uuid.uuid4().hex[:6]}"})  # fmt: skip
        created = requests.post(f"{stack.url}/offers/{offer.json()['id']}/stocks", headers=pro, timeout=10,
                                json={"priceCents": 1010, "quantity": 20, **stock_fields})  # fmt: skip
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    thing = stock("SUPPORT_PHYSIQUE_FILM")
    start = SystemClock().now() + timedelta(days=10)
    event = stock("SEANCE_CINE", beginningDatetime=start.isoformat())
    tokens = {state: book(stack, thing) for state in ("confirmed", "used", "cancelled", "reimbursed", "undone")}
    event_booking = booked(stack, event)
    tokens["event"] = event_booking["token"]
    for state in ("used", "reimbursed", "undone"):
        assert requests.patch(f"{stack.url}/v2/bookings/use/token/{tokens[state]}", headers=headers, timeout=10).ok
    cancelled = requests.patch(
        f"{stack.url}/v2/bookings/cancel/token/{tokens['cancelled']}", headers=headers, timeout=10
    )
    assert cancelled.ok
    limit = parse_instant(event_booking["cancellationLimitDate"])  # shown at Réunion's time (UTC+4, no summer time)
    return Contract(stack, headers, tokens, (limit + timedelta(hours=4)).strftime("%d/%m/%Y à %H:%M")), thing


@pytest.fixture(scope="module")
def contracts(stack: RunningStack) -> dict[str, Contract]:
    built = {caller: an_offerer(stack, caller) for caller in CALLERS}
    # Reimbursed for real: a payout batch after the next one's period (today's validations are in it)
    later = next_payout_day(next_payout_day(paris_date(SystemClock().now())) + timedelta(days=1))
    run_job(stack, "payouts", paris_midnight(later) + timedelta(hours=2))
    another = bookshop_booking(stack)
    for contract, thing in built.values():
        shown = wait_until_reimbursed(stack, contract.headers, contract.tokens["reimbursed"])
        assert shown.status_code == 403, shown.text
        for state in ("used", "undone"):  # paid by that batch too: booked and validated again
            contract.tokens[state] = book(stack, thing)
            used = requests.patch(f"{stack.url}/v2/bookings/use/token/{contract.tokens[state]}",
                                  headers=contract.headers, timeout=10)  # fmt: skip
            assert used.ok
        contract.tokens["another offerer's"] = another
    return {caller: contract for caller, (contract, _) in built.items()}


def wait_until_reimbursed(stack: RunningStack, headers: dict[str, str], token: str) -> requests.Response:
    import time

    deadline = time.monotonic() + 60
    while True:
        shown = requests.get(f"{stack.url}/v2/bookings/token/{token}", headers=headers, timeout=10)
        if shown.status_code == 403 or time.monotonic() > deadline:
            return shown
        time.sleep(0.3)


def bookshop_booking(stack: RunningStack) -> str:
    _, stock_id = bookshop_offer(stack, f"Affiche {uuid.uuid4().hex[:6]}", 100, 5)
    return book(stack, stock_id)


def call(contracts: dict[str, Contract], caller: str, route: str, state: str) -> requests.Response:
    contract = contracts[caller]
    token = contract.tokens.get(state, "ZZZZZZ")
    url = f"{contract.stack.url}/v2/bookings/{route}/token/{token}".replace("/get/token", "/token")
    method = requests.get if route == "get" else requests.patch
    return method(url, headers=contract.headers, timeout=10)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(
    ("route", "state", "status", "body"),
    [
        ("get", "unknown", 404, NOT_FOUND), ("use", "unknown", 404, NOT_FOUND), ("keep", "unknown", 404, NOT_FOUND),
        ("cancel", "unknown", 404, NOT_FOUND),
        ("get", "another offerer's", 403, NOT_YOURS), ("use", "another offerer's", 403, NOT_YOURS),
        ("keep", "another offerer's", 403, NOT_YOURS),
        ("get", "reimbursed", 403, REIMBURSED), ("use", "reimbursed", 403, REIMBURSED),
        ("keep", "reimbursed", 410, {"payment": ["Le remboursement est en cours de traitement"]}),
        ("cancel", "reimbursed", 403, {"global": ["Impossible d'annuler une réservation consommée"]}),
        ("get", "used", 410, USED), ("use", "used", 410, USED),
        ("cancel", "used", 403, {"global": ["Impossible d'annuler une réservation consommée"]}),
        ("get", "cancelled", 410, CANCELLED), ("use", "cancelled", 410, CANCELLED),
        ("keep", "cancelled", 410, {"booking": ["Cette réservation a été annulée"]}),
        ("cancel", "cancelled", 410, {"global": ["Cette contremarque a déjà été annulée"]}),
        ("keep", "confirmed", 410, {"booking": ["Cette réservation n'a pas encore été validée"]}),
    ],
)  # fmt: skip
def test_each_refusal_is_the_real_apis(
    contracts: dict[str, Contract], caller: str, route: str, state: str, status: int, body: dict[str, list[str]]
) -> None:
    answer = call(contracts, caller, route, state)
    assert answer.status_code == status, answer.text
    shown = answer.json()
    assert {key: shown[key] for key in body} == body
    assert shown["code"] and shown["message"]  # ours, beside


@pytest.mark.parametrize(("caller", "key", "message"), [
    ("api key", "user", "Vous n'avez pas les droits suffisants pour annuler cette réservation."),
    ("basic", "global", "Vous n'avez pas les droits d'accès suffisants pour accéder à cette information."),
])  # fmt: skip
def test_cancelling_another_offerers_booking_is_said_per_caller(
    contracts: dict[str, Contract], caller: str, key: str, message: str
) -> None:
    answer = call(contracts, caller, "cancel", "another offerer's")
    assert (answer.status_code, answer.json()[key]) == (403, [message])


@pytest.mark.parametrize("caller", CALLERS)
def test_an_event_is_refused_until_its_cancellation_limit_in_the_venues_time_zone(
    contracts: dict[str, Contract], caller: str
) -> None:
    contract = contracts[caller]
    for route in ("get", "use"):
        answer = call(contracts, caller, route, "event")
        assert answer.status_code == 403
        assert answer.json()["booking"] == [
            f"Vous pourrez valider cette contremarque à partir du {contract.event_limit_shown}, une fois le délai "
            "d’annulation passé."
        ]


@pytest.mark.parametrize("caller", CALLERS)
def test_a_booking_shows_as_get_booking_response(contracts: dict[str, Contract], caller: str) -> None:
    contract = contracts[caller]
    token = contract.tokens["confirmed"]
    answer = requests.get(f"{contract.stack.url}/v2/bookings/token/{token.lower()}", headers=contract.headers,
                          timeout=10)  # fmt: skip
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
    body = answer.json()
    types = {
        "bookingId": str, "dateOfBirth": str, "datetime": str, "ean13": type(None), "email": str,
        "formula": type(None), "isUsed": bool, "offerId": int, "publicOfferId": str, "offerName": str,
        "offerType": str, "priceCategoryLabel": type(None), "phoneNumber": str, "price": float, "quantity": int,
        "theater": dict, "userName": str, "firstName": str, "lastName": str, "venueAddress": str,
        "venueDepartmentCode": str, "venueName": str,
    }  # fmt: skip
    assert list(body)[: len(types)] == list(types)
    assert {name: type(body[name]) for name in types} == types
    assert (body["price"], body["datetime"], body["isUsed"], body["venueDepartmentCode"]) == (10.1, "", False, "974")
    assert (body["venueAddress"], body["venueName"], body["theater"]) == ("5 rue de Paris", "Ciné Lacaze", {})


@pytest.mark.parametrize("caller", CALLERS)
def test_validate_undo_and_cancel_answer_204_without_a_body(contracts: dict[str, Contract], caller: str) -> None:
    contract = contracts[caller]
    token = contract.tokens["undone"]
    url, headers = f"{contract.stack.url}/v2/bookings", contract.headers
    undone = requests.patch(f"{url}/keep/token/{token}", headers=headers, timeout=10)
    assert (undone.status_code, undone.content) == (204, b"")
    used = requests.patch(f"{url}/use/token/{token.lower()}", headers=headers, timeout=10)
    assert (used.status_code, used.content) == (204, b"")


def test_without_credentials_or_with_wrong_ones_401_as_the_real_api(contracts: dict[str, Contract]) -> None:
    contract = contracts["basic"]
    url = f"{contract.stack.url}/v2/bookings/token/{contract.tokens['confirmed']}"
    wrong = "Basic " + base64.b64encode(f"{BOOKSELLER}:not-the-password".encode()).decode()
    for headers in ({}, {"Authorization": "Bearer WrongApiKey1234567"}, {"Authorization": wrong}):
        answer = requests.get(url, headers=headers, timeout=10)
        assert answer.status_code == 401
        assert answer.json()["auth"] == "API key or login required"
