"""Collective offers through the local stack (issue 17): the admin loads institutions, grants a budget and links a
teacher and a head; a library publishes a free workshop and a paid visit; the teacher searches and pre-books, the head
confirms (the budget is debited), a cancellation gives it back; the emails go through the stream."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from tests.e2e.conftest import RunningStack
from tests.e2e.test_accounts_flow import outbox_email
from tests.e2e.test_bookings_flow import auth

LIBRARIAN = "mediatheque@saint-ouen-sur-loire.example"  # the seeded library's booking email too
ADMIN_EMAIL = "admin@passculture.local"
PASSWORD = "Collectif-Local-2026"


def later(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def school_year(days: float) -> str:
    from pass_culture.collective.rules import school_year_of

    return school_year_of(datetime.now(UTC) + timedelta(days=days))


def new_uai() -> str:
    return f"{random.randrange(10**7):07d}{random.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}"


def institution(stack: RunningStack, admin: str, budget_cents: int | None) -> str:
    uai = new_uai()
    csv = f"uai,name,type,city,postalCode,departement\n{uai},Collège Jean-Zay,COLLEGE,Orléans,45000,45\nbad,line\n"
    loaded = requests.post(f"{stack.url}/admin/institutions", data=csv.encode(), timeout=10,
                           headers={**auth(admin), "Content-Type": "text/csv"})  # fmt: skip
    assert (loaded.status_code, loaded.json()["loaded"], loaded.json()["rejected"]) == (200, 1, 1), loaded.text
    if budget_cents is not None:
        granted = requests.put(f"{stack.url}/admin/institutions/{uai}/budgets/{school_year(30)}",
                               json={"amountCents": budget_cents}, headers=auth(admin), timeout=10)  # fmt: skip
        assert granted.status_code == 200, granted.text
    return uai


def member(stack: RunningStack, admin: str, uai: str, role: str) -> tuple[str, str]:
    """A person the admin links to the institution (Cognito invites them); they set their password and sign in."""
    email = f"{role.replace('_', '-')}-{uuid.uuid4().hex[:8]}@ac-orleans-tours.fr"
    added = requests.post(f"{stack.url}/admin/institutions/{uai}/members", json={"email": email, "role": role},
                          headers=auth(admin), timeout=10)  # fmt: skip
    assert added.status_code == 201, added.text
    stack.set_password(email, PASSWORD)
    return email, stack.login(email, PASSWORD)


def library_offer(stack: RunningStack, pro: str, name: str, subcategory: str, price: int | None) -> dict[str, Any]:
    venue = next(v for o in requests.get(f"{stack.url}/offerers", headers=auth(pro), timeout=10).json()["items"]
                 for v in o["venues"] if v["name"] == "Médiathèque Jacques-Prévert")  # fmt: skip
    offer = requests.post(f"{stack.url}/collective-offers", headers=auth(pro), timeout=10, json={
        "venueId": venue["id"], "subcategoryId": subcategory, "name": name,
        "description": "Avec les bibliothécaires", "students": ["COLLEGE_6E", "COLLEGE_5E"],
        "domains": ["UNIVERS_DU_LIVRE"], "interventionArea": ["41", "45"], "contactEmail": LIBRARIAN,
        "durationMinutes": 90, "accessibility": ["motor"],
    })  # fmt: skip
    assert offer.status_code == 201, offer.text
    if price is None:
        return dict(offer.json())
    stock = requests.put(f"{stack.url}/collective-offers/{offer.json()['id']}/stock", headers=auth(pro), timeout=10,
                         json={"startDatetime": later(30), "bookingLimitDatetime": later(20), "numberOfStudents": 28,
                               "totalPriceCents": price, "priceDetails": "Deux médiateurs"})  # fmt: skip
    assert stock.status_code == 200, stock.text
    return {**offer.json(), "stock": stock.json()}


def budget_left(stack: RunningStack, token: str) -> int:
    answer = requests.get(f"{stack.url}/institution/bookings", headers=auth(token), timeout=10)
    assert answer.status_code == 200, answer.text
    return int(next(b for b in answer.json()["budgets"] if b["schoolYear"] == school_year(30))["remainingCents"])


def test_a_library_a_teacher_and_a_head_book_a_visit_on_the_institutions_budget(stack: RunningStack) -> None:
    admin, pro = stack.login(ADMIN_EMAIL), stack.login(LIBRARIAN)
    uai = institution(stack, admin, budget_cents=100_000)
    teacher_email, teacher = member(stack, admin, uai, "teacher")
    _, head = member(stack, admin, uai, "institution_head")
    tag = uuid.uuid4().hex[:6]
    workshop = library_offer(stack, pro, f"Atelier kamishibaï {tag}", "ATELIER_PRATIQUE_ART", 0)
    visit = library_offer(stack, pro, f"Visite des réserves {tag}", "VISITE", 45_000)
    showcase = library_offer(stack, pro, f"Rencontre d'auteur {tag}", "RENCONTRE", None)
    moved = requests.patch(f"{stack.url}/collective-offers/{showcase['id']}", json={"interventionArea": ["45"]},
                           headers=auth(pro), timeout=10)  # fmt: skip
    assert (moved.status_code, moved.json()["interventionArea"]) == (200, ["45"])

    # the teacher searches: the institution's département (45) by default, the library's own offers first
    found = requests.get(f"{stack.url}/collective-offers", params={"q": tag}, headers=auth(teacher), timeout=10)
    assert found.status_code == 200, found.text
    assert [o["id"] for o in found.json()["items"]] == [showcase["id"], visit["id"], workshop["id"]]
    newest = requests.get(f"{stack.url}/collective-offers", headers=auth(teacher), timeout=10,
                          params={"q": tag, "sort": "newest", "domain": "UNIVERS_DU_LIVRE", "level": "COLLEGE_6E"})  # fmt: skip
    assert [o["id"] for o in newest.json()["items"]] == [showcase["id"], visit["id"], workshop["id"]]
    asked = requests.post(f"{stack.url}/collective-offers/{showcase['id']}/requests", headers=auth(teacher),
                          json={"comment": "Deux classes de 6e en mai ?", "totalStudents": 52}, timeout=10)  # fmt: skip
    assert asked.status_code == 201, asked.text
    request_email = outbox_email(stack, LIBRARIAN, f"Demande d'un enseignant : Rencontre d'auteur {tag}")
    assert request_email["replyTo"] == teacher_email and "52" in request_email["text"]

    # pre-booking: one booking a stock
    booked = requests.post(f"{stack.url}/collective-bookings", json={"collectiveStockId": visit["stock"]["id"]},
                           headers=auth(teacher), timeout=10)  # fmt: skip
    assert (booked.status_code, booked.json()["status"]) == (201, "PENDING"), booked.text
    again = requests.post(f"{stack.url}/collective-bookings", json={"collectiveStockId": visit["stock"]["id"]},
                          headers=auth(teacher), timeout=10)  # fmt: skip
    assert again.status_code == 409
    assert outbox_email(stack, LIBRARIAN, f"Nouvelle préréservation collective : Visite des réserves {tag}")
    free = requests.post(f"{stack.url}/collective-bookings", json={"collectiveStockId": workshop["stock"]["id"]},
                         headers=auth(teacher), timeout=10)  # fmt: skip
    assert free.status_code == 201, free.text

    # the head confirms: the visit's price is taken from the budget, the free workshop takes nothing
    assert budget_left(stack, head) == 100_000
    confirmed = requests.post(f"{stack.url}/collective-bookings/{booked.json()['id']}/confirm", headers=auth(head),
                              timeout=10)  # fmt: skip
    assert (confirmed.status_code, confirmed.json()["status"]) == (200, "CONFIRMED"), confirmed.text
    assert requests.post(f"{stack.url}/collective-bookings/{free.json()['id']}/confirm", headers=auth(head),
                         timeout=10).status_code == 200  # fmt: skip
    assert budget_left(stack, teacher) == 55_000
    twice = requests.post(f"{stack.url}/collective-bookings/{booked.json()['id']}/confirm", headers=auth(head),
                          timeout=10)  # fmt: skip
    assert twice.status_code == 409 and budget_left(stack, head) == 55_000
    to_teacher = outbox_email(
        stack, teacher_email, f"Votre réservation collective est confirmée : Visite des réserves {tag}"
    )
    assert "450,00" in to_teacher["text"]
    assert outbox_email(stack, LIBRARIAN, f"Réservation collective confirmée : Visite des réserves {tag}")

    # the library cancels before the event: the budget is given back
    cancelled = requests.post(f"{stack.url}/collective-bookings/{booked.json()['id']}/cancel", headers=auth(pro),
                              timeout=10)  # fmt: skip
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "CANCELLED"), cancelled.text
    assert budget_left(stack, head) == 100_000
    assert outbox_email(stack, teacher_email, f"Réservation collective annulée : Visite des réserves {tag}")
    listed = requests.get(f"{stack.url}/institution/bookings", headers=auth(head), timeout=10).json()["items"]
    assert {(b["id"], b["status"]) for b in listed} == {(booked.json()["id"], "CANCELLED"),
                                                        (free.json()["id"], "CONFIRMED")}  # fmt: skip
    # the library follows them beside its individual bookings (kind=collective), and exports them
    offerer_id = workshop["offererId"]
    tracked = requests.get(f"{stack.url}/pro/bookings", params={"offererId": offerer_id, "kind": "collective"},
                           headers=auth(pro), timeout=10)  # fmt: skip
    assert tracked.status_code == 200, tracked.text
    assert {booked.json()["id"], free.json()["id"]} <= {b["id"] for b in tracked.json()["items"]}
    exported = requests.get(f"{stack.url}/pro/bookings/export", headers=auth(pro), timeout=10,
                            params={"offererId": offerer_id, "kind": "collective", "format": "csv"})  # fmt: skip
    assert exported.status_code == 200 and f"Visite des réserves {tag}" in exported.text
    assert "Collège Jean-Zay" in exported.text and "annulé" in exported.text


def matrix_ids(stack: RunningStack, pro_a: str, pro_a_venue_id: str) -> dict[str, str]:
    """What tests/e2e/test_route_matrix.py names for the collective routes: a collective offer of offerer A (the
    seeded bookshop), a PENDING collective booking of another of its offers, an institution and a school year."""
    admin = stack.login(ADMIN_EMAIL)
    uai = institution(stack, admin, budget_cents=100_000)
    _, teacher = member(stack, admin, uai, "teacher")
    body = {"venueId": pro_a_venue_id, "subcategoryId": "RENCONTRE", "name": "Rencontre d'auteur",
            "students": ["LYCEE_SECONDE"], "domains": ["UNIVERS_DU_LIVRE"], "contactEmail": "contact@librairie.example"}  # fmt: skip
    offers = [requests.post(f"{stack.url}/collective-offers", json=body, headers=auth(pro_a), timeout=10).json()
              for _ in range(2)]  # fmt: skip
    stock = {"startDatetime": later(30), "bookingLimitDatetime": later(20), "numberOfStudents": 30,
             "totalPriceCents": 20_000}  # fmt: skip
    put = requests.put(f"{stack.url}/collective-offers/{offers[1]['id']}/stock", json=stock, headers=auth(pro_a),
                       timeout=10).json()  # fmt: skip
    booking = requests.post(f"{stack.url}/collective-bookings", json={"collectiveStockId": put["id"]},
                            headers=auth(teacher), timeout=10)  # fmt: skip
    assert booking.status_code == 201, booking.text
    return {"collectiveOfferId": offers[0]["id"], "collectiveBookingId": booking.json()["id"], "uai": uai,
            "schoolYear": school_year(30), "collectiveStockId": put["id"]}  # fmt: skip
