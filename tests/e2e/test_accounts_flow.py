"""Accounts over HTTP, as the pro portal and the admin back office use them, emails included."""

from __future__ import annotations

import time
import uuid
from typing import Any

import requests
from stdnum import luhn

from tests.e2e.conftest import PASSWORD, RunningStack


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_user(stack: RunningStack, group: str) -> tuple[str, str]:
    email = f"{group}-{uuid.uuid4().hex[:10]}@example.org"
    body = {"email": email, "password": PASSWORD, "group": group, "firstName": "Léa", "lastName": "Martin"}
    assert requests.post(f"{stack.url}/_local/users", json=body, timeout=10).status_code == 201
    return email, stack.login(email)


def outbox_email(stack: RunningStack, to: str, subject_part: str, within: float = 5.0) -> dict[str, Any]:
    """The email the stream -> notifications path sent, waiting for it a little (it is asynchronous)."""
    deadline = time.monotonic() + within
    while True:
        items = requests.get(f"{stack.url}/_local/outbox", timeout=10).json()["items"]
        found = [item for item in items if item["to"] == to and subject_part in item["subject"]]
        if found or time.monotonic() > deadline:
            assert len(found) == 1, items
            return dict(found[0])
        time.sleep(0.1)


def luhn_complete(body: str) -> str:
    return body + luhn.calc_check_digit(body)


def test_a_bookshop_signs_up_and_is_told_when_its_bank_account_is_accepted(stack: RunningStack) -> None:
    pro_email, pro = new_user(stack, "pro")
    admin = stack.login("admin@passculture.local")
    siren = luhn_complete(str(uuid.uuid4().int)[:8])
    offerer = requests.post(
        f"{stack.url}/offerers", json={"siren": siren, "name": "Librairie"}, headers=auth(pro), timeout=10
    )
    assert offerer.status_code == 201
    offerer_id = offerer.json()["id"]
    assert (
        requests.post(f"{stack.url}/admin/offerers/{offerer_id}/validate", headers=auth(admin), timeout=10).json()[
            "validationStatus"
        ]
        == "VALIDATED"
    )
    venue = {
        "name": "Librairie", "siret": luhn_complete(siren + "0001"), "address": "1 rue du Livre", "postalCode": "69001",
        "city": "Lyon", "latitude": 45.76, "longitude": 4.83, "bookingEmail": "resa@librairie.example",
    }  # fmt: skip
    assert (
        requests.post(
            f"{stack.url}/offerers/{offerer_id}/venues", json=venue, headers=auth(pro), timeout=10
        ).status_code
        == 201
    )
    account = {"iban": "FR76 3000 6000 0112 3456 7890 189", "bic": "AGRIFRPPXXX", "label": "Compte pro"}
    put = requests.put(f"{stack.url}/offerers/{offerer_id}/bank-account", json=account, headers=auth(pro), timeout=10)
    assert put.json()["status"] == "PENDING"
    accepted = requests.post(
        f"{stack.url}/admin/offerers/{offerer_id}/bank-account/accept", headers=auth(admin), timeout=10
    )
    assert accepted.json()["status"] == "ACCEPTED"
    email = outbox_email(stack, pro_email, "coordonnées bancaires")
    assert "Compte pro" in email["text"]
    assert "1234567890189" not in email["text"] + email["html"]


def test_a_young_person_is_registered_welcomed_and_sees_their_credit(stack: RunningStack) -> None:
    email = f"jeune-{uuid.uuid4().hex[:10]}@example.org"
    admin = stack.login("admin@passculture.local")
    body = {
        "email": email,
        "firstName": "Zoé",
        "lastName": "Petit",
        "birthDate": "2010-02-14",
        "phone": "0612345678",
        "postalCode": "13001",
    }
    registered = requests.post(f"{stack.url}/beneficiaries", json=body, headers=auth(admin), timeout=10)
    assert registered.status_code == 201
    assert registered.json()["credit"]["initialCents"] == 3000  # 16 years old
    welcome = outbox_email(stack, email, "Bienvenue")
    assert "30,00" in welcome["text"]
    # The registration created the identity and put it in the beneficiary group: the young person can log in.
    cognito_password = "Zoe-Petit-2026-Pass"
    stack.set_password(email, cognito_password)
    me = requests.get(f"{stack.url}/me", headers=auth(stack.login(email, cognito_password)), timeout=10)
    assert me.status_code == 200
    assert me.json()["credit"]["remainingCents"] == 3000


def test_venue_software_uses_an_api_key_until_it_is_revoked(stack: RunningStack) -> None:
    _, pro = new_user(stack, "pro")
    siren = luhn_complete(str(uuid.uuid4().int)[:8])
    offerer_id = requests.post(
        f"{stack.url}/offerers", json={"siren": siren, "name": "Ciné"}, headers=auth(pro), timeout=10
    ).json()["id"]
    created = requests.post(f"{stack.url}/offerers/{offerer_id}/api-keys", headers=auth(pro), timeout=10)
    assert created.status_code == 201
    key = created.json()["apiKey"]
    counter = f"{stack.url}/v2/bookings/token/ABCDEF"
    assert requests.get(counter, headers=auth(key), timeout=10).status_code == 404  # let in: no such countermark
    revoked = requests.delete(
        f"{stack.url}/offerers/{offerer_id}/api-keys/{created.json()['id']}", headers=auth(pro), timeout=10
    )
    assert revoked.status_code == 204
    assert requests.get(counter, headers=auth(key), timeout=10).status_code == 401
