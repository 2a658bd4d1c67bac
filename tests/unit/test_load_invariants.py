"""`make load`'s invariant checker (infra/load/invariants.py) on a tiny synthetic state: it passes on a consistent
table and outbox, and names each kind of breach (oversell, a credit off its bookings, a missing or doubled email, a
5xx)."""

from __future__ import annotations

import copy
from typing import Any

from infra.load import invariants


def booking(booking_id: str, token: str, status: str, *, user: str = "u1", stock: str = "s1", cents: int = 1000) -> Any:
    return {
        "PK": f"BOOKING#{booking_id}",
        "SK": "BOOKING",
        "entity": "BOOKING",
        "id": booking_id,
        "token": token,
        "status": status,
        "stockId": stock,
        "quantity": 1,
        "amountCents": cents,
        "bookingEmail": "Venue@Example.org",
        "beneficiary": {"id": user, "email": f"{user}@example.org"},
    }


def emails_for(token: str, user: str = "u1") -> dict[str, list[dict[str, str]]]:
    return {
        "venue@example.org": [{"subject": f"Nouvelle réservation pass Culture : Un livre ({token})", "text": "…"}],
        f"{user}@example.org": [
            {"subject": "Ta réservation de « Un livre » est confirmée", "text": f"Ta contremarque : {token}\n"}
        ],
    }


def state() -> tuple[list[Any], dict[str, list[dict[str, str]]]]:
    items = [
        {"PK": "STOCK#s1", "SK": "STOCK", "entity": "STOCK", "id": "s1", "quantity": 2, "bookedQuantity": 2},
        {"PK": "STOCK#s2", "SK": "STOCK", "entity": "STOCK", "id": "s2", "quantity": None, "bookedQuantity": 0},
        {"PK": "USER#u1", "SK": "CREDIT", "initialCents": 30000, "spentCents": 1000},
        {"PK": "USER#u2", "SK": "CREDIT", "initialCents": 2000, "spentCents": 1000},
        booking("b1", "ABCDEF", "CONFIRMED"),
        booking("b2", "GHJKLM", "USED", user="u2"),
        booking("b3", "NPQRST", "CANCELLED", stock="s2"),
    ]
    outbox = emails_for("ABCDEF")
    for to, sent in emails_for("GHJKLM", "u2").items():
        outbox.setdefault(to, []).extend(sent)
    return items, outbox


def test_a_consistent_state_passes() -> None:
    items, outbox = state()
    results = invariants.check(items, outbox, {"book|201|": 3, "book|409|SOLD_OUT": 1})
    assert [r.ok for r in results] == [True, True, True, True], [r.line() for r in results]
    assert [r.checked for r in results] == [2, 2, 2, 4]


def test_oversell_and_a_count_off_its_bookings_are_named() -> None:
    items, _ = state()
    items[0]["quantity"] = 1  # 2 booked of 1
    items[1]["bookedQuantity"] = 1  # its only booking is cancelled
    result = invariants.no_oversell(items)
    assert not result.ok
    assert any("2 booked of 1" in p for p in result.problems)
    assert any("stock s2: bookedQuantity 1, its bookings 0" in p for p in result.problems)


def test_a_credit_off_its_bookings_is_named() -> None:
    items, _ = state()
    items[2]["spentCents"] = 0
    result = invariants.credits_match(items)
    assert not result.ok and result.problems == ["credit of u1: spentCents 0, its bookings 1000"]


def test_a_missing_or_doubled_email_is_named() -> None:
    items, outbox = state()
    missing = copy.deepcopy(outbox)
    missing["u1@example.org"] = []
    doubled = copy.deepcopy(outbox)
    doubled["venue@example.org"].append(dict(doubled["venue@example.org"][0]))
    assert invariants.two_emails(items, missing).problems == ["booking b1 (ABCDEF): 1 to the venue, 0 to the young"]
    assert invariants.two_emails(items, doubled).problems == ["booking b1 (ABCDEF): 2 to the venue, 1 to the young"]


def test_a_5xx_or_no_answer_fails() -> None:
    result = invariants.no_server_errors({"search|200|": 10, "book|503|SERVICE_UNAVAILABLE": 2, "offer|0|": 1})
    assert not result.ok
    assert result.problems == ["book: 2 × 503", "offer: 1 × no answer"]
