"""Bookings over HTTP: emails through the outbox, and a burst of concurrent bookings on a few places."""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import requests

from tests.e2e.conftest import RunningStack
from tests.e2e.test_accounts_flow import outbox_email

BOOKSELLER = "libraire@librairie-marais.example"
YOUNG = "jeune@passculture.local"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def bookshop_offer(
    stack: RunningStack, name: str, price_cents: int, quantity: int, subcategory: str = "SUPPORT_PHYSIQUE_FILM"
) -> tuple[str, str]:
    token = stack.login(BOOKSELLER)
    venue_id = requests.get(
        f"{stack.url}/offers", params={"lat": "48.859", "lon": "2.356", "radiusKm": "1"}, timeout=20
    ).json()["items"][0]["venueId"]
    offer = requests.post(
        f"{stack.url}/offers",
        json={"venueId": venue_id, "subcategoryId": subcategory, "name": name},
        headers=auth(token),
        timeout=10,
    ).json()
    stock = requests.post(
        f"{stack.url}/offers/{offer['id']}/stocks",
        json={"priceCents": price_cents, "quantity": quantity},
        headers=auth(token),
        timeout=10,
    ).json()
    return offer["id"], stock["id"]


def test_a_booking_emails_the_venue_and_the_young_person_then_a_cancellation_tells_the_venue(
    stack: RunningStack,
) -> None:
    name = f"DVD {uuid.uuid4().hex[:6]}"
    _, stock_id = bookshop_offer(stack, name, 1490, 3)
    young = stack.login(YOUNG)
    booked = requests.post(
        f"{stack.url}/bookings", json={"stockId": stock_id, "quantity": 1}, headers=auth(young), timeout=10
    )
    assert booked.status_code == 201, booked.text
    token = booked.json()["token"]
    to_venue = outbox_email(stack, "contact@librairie-marais.example", name, within=2.5)
    assert to_venue["replyTo"] == YOUNG
    for shown in (token, name, "14,90", "Jeanne Jeune", YOUNG):
        assert shown in to_venue["text"], shown
    confirmation = outbox_email(stack, YOUNG, name, within=2.5)
    assert token in confirmation["text"]
    assert "12 rue des Archives" in confirmation["text"]
    cancelled = requests.post(f"{stack.url}/bookings/{booked.json()['id']}/cancel", headers=auth(young), timeout=10)
    assert cancelled.json()["status"] == "CANCELLED"
    assert token in outbox_email(stack, "contact@librairie-marais.example", "annulée", within=2.5)["text"]


def register_young_people(stack: RunningStack, ages: list[int]) -> list[str]:
    """Registers young people (admin), gives each a password and logs them in: their tokens."""
    admin = stack.login("admin@passculture.local")
    tokens = []
    for age in ages:
        email = f"burst-{uuid.uuid4().hex[:10]}@example.org"
        body = {"email": email, "firstName": "Léo", "lastName": "Test", "birthDate": date(date.today().year - age, 1, 1).isoformat(),
                "phone": "0600000000", "postalCode": "75011"}  # fmt: skip
        assert (
            requests.post(f"{stack.url}/beneficiaries", json=body, headers=auth(admin), timeout=10).status_code == 201
        )
        stack.set_password(email, "Burst-Password-2026")
        tokens.append(stack.login(email, "Burst-Password-2026"))
    return tokens


def test_a_hundred_concurrent_bookings_book_exactly_what_places_and_credits_allow(stack: RunningStack) -> None:
    """30 young people, 100 requests at once, 10 places at 25 €: the 20 aged 17 (30 €) can pay, the 10 aged 15 (20 €)
    cannot; each may book once. Exactly 10 succeed, all by distinct 17-year-olds; stock, credits and bookings agree."""
    offer_id, stock_id = bookshop_offer(stack, f"Coffret {uuid.uuid4().hex[:6]}", 2500, 10)
    ages = [17] * 20 + [15] * 10
    tokens = register_young_people(stack, ages)
    attempts = [k % 30 for k in range(100)]

    def book(who: int) -> tuple[int, int, dict[str, Any]]:
        answer = requests.post(
            f"{stack.url}/bookings", json={"stockId": stock_id, "quantity": 1}, headers=auth(tokens[who]), timeout=60
        )
        return who, answer.status_code, answer.json()

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(book, attempts))
    statuses = Counter(status for _, status, _ in results)
    assert statuses[201] == 10, statuses
    assert set(statuses) <= {201, 409}, [r for r in results if r[1] not in (201, 409)]
    winners = [who for who, status, _ in results if status == 201]
    assert len(set(winners)) == 10
    assert all(ages[who] == 17 for who in winners)
    refused = Counter(body["code"] for _, status, body in results if status == 409)
    assert set(refused) <= {"SOLD_OUT", "ALREADY_BOOKED", "INSUFFICIENT_CREDIT"}
    stock = next(
        s for s in requests.get(f"{stack.url}/offers/{offer_id}", timeout=10).json()["stocks"] if s["id"] == stock_id
    )
    assert (stock["bookedQuantity"], stock["remainingQuantity"]) == (10, 0)
    for who, token in enumerate(tokens):
        credit = requests.get(f"{stack.url}/me", headers=auth(token), timeout=10).json()["credit"]
        bookings = requests.get(f"{stack.url}/me/bookings", headers=auth(token), timeout=10).json()["items"]
        won = who in winners
        assert len(bookings) == (1 if won else 0)
        assert credit["remainingCents"] == credit["initialCents"] - (2500 if won else 0)
