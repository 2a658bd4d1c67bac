"""The daily jobs over HTTP, by time travel: `POST /_local/jobs/{job}` with the schedule's time. An uncollected DVD
is reminded a week before, then expires with its credit back, each email sent once even when a day is replayed; a
free library card validates itself after 30 days and the venue's tracking says AUTO; the admin reads the runs."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import requests

from pass_culture.clock import paris_date, paris_midnight, parse_instant
from tests.e2e.conftest import RunningStack
from tests.e2e.test_accounts_flow import outbox_email
from tests.e2e.test_bookings_flow import BOOKSELLER, auth, bookshop_offer

VENUE_EMAIL = "contact@librairie-marais.example"


def young_person(stack: RunningStack) -> tuple[str, str]:
    admin = stack.login("admin@passculture.local")
    email = f"jobs-{uuid.uuid4().hex[:10]}@example.org"
    body = {"email": email, "firstName": "Inès", "lastName": "Lecture", "phone": "0600000000", "postalCode": "75004",
            "birthDate": date(date.today().year - 18, 1, 1).isoformat()}  # fmt: skip
    assert requests.post(f"{stack.url}/beneficiaries", json=body, headers=auth(admin), timeout=10).status_code == 201
    stack.set_password(email, "Jobs-Password-2026")
    return email, stack.login(email, "Jobs-Password-2026")


def run_job(stack: RunningStack, job: str, at: datetime) -> dict[str, Any]:
    answer = requests.post(f"{stack.url}/_local/jobs/{job}", json={"time": at.isoformat()}, timeout=120)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def book(stack: RunningStack, token: str, stock_id: str) -> dict[str, Any]:
    booked = requests.post(
        f"{stack.url}/bookings", json={"stockId": stock_id, "quantity": 1}, headers=auth(token), timeout=10
    )
    assert booked.status_code == 201, booked.text
    mine = requests.get(f"{stack.url}/me/bookings", headers=auth(token), timeout=10).json()["items"]
    return next(item for item in mine if item["id"] == booked.json()["id"])


def at_paris(day: date, hour: int, minute: int = 0) -> datetime:
    return paris_midnight(day) + timedelta(hours=hour, minutes=minute)


def remaining(stack: RunningStack, token: str) -> int:
    return int(requests.get(f"{stack.url}/me", headers=auth(token), timeout=10).json()["credit"]["remainingCents"])


def test_an_uncollected_dvd_is_reminded_then_expires_once_with_its_credit_back(stack: RunningStack) -> None:
    name = f"DVD {uuid.uuid4().hex[:6]}"
    _, stock_id = bookshop_offer(stack, name, 1490, 3)
    email, token = young_person(stack)
    booking = book(stack, token, stock_id)
    assert remaining(stack, token) == 30000 - 1490
    expiry_day = paris_date(parse_instant(booking["bookedAt"]) + timedelta(days=30)) + timedelta(days=1)

    for _ in range(2):  # the reminder's day, then the same day replayed
        run_job(stack, "expire-bookings", at_paris(expiry_day - timedelta(days=7), 0, 30))
    reminder = outbox_email(stack, email, "Pense à retirer", within=5)
    for shown in (name, booking["token"], "12 rue des Archives"):
        assert shown in reminder["text"], shown

    expired = run_job(stack, "expire-bookings", at_paris(expiry_day, 0, 30))
    assert expired["expired"] >= 1 and expired["status"] == "DONE"
    assert run_job(stack, "expire-bookings", at_paris(expiry_day, 0, 30))["candidates"] == 0  # replayed: nothing
    assert booking["token"] in outbox_email(stack, email, "a expiré", within=5)["text"]
    assert name in outbox_email(stack, VENUE_EMAIL, f"Réservation expirée : {name}", within=5)["text"]
    assert remaining(stack, token) == 30000
    mine = requests.get(f"{stack.url}/me/bookings", headers=auth(token), timeout=10).json()["items"]
    assert {(b["status"], b["cancellationReason"]) for b in mine if b["id"] == booking["id"]} == {
        ("CANCELLED", "EXPIRED")
    }
    outbox_email(stack, email, "Pense à retirer", within=0)  # still exactly one reminder


def test_a_free_library_card_validates_itself_and_the_venue_sees_auto(stack: RunningStack) -> None:
    _, stock_id = bookshop_offer(stack, f"Carte {uuid.uuid4().hex[:6]}", 0, 100, subcategory="ABO_BIBLIOTHEQUE")
    _, token = young_person(stack)
    booking = book(stack, token, stock_id)
    booked_at = parse_instant(booking["bookedAt"])

    run_job(stack, "auto-validate-bookings", booked_at + timedelta(days=29))  # other tests' events may be due
    mine = requests.get(f"{stack.url}/me/bookings", headers=auth(token), timeout=10).json()["items"]
    assert [b["status"] for b in mine if b["id"] == booking["id"]] == ["CONFIRMED"]  # day 29: not yet
    # the schedule's time is to the second (`<aws.scheduler.scheduled-time>`), the booking's to the millisecond
    report = run_job(stack, "auto-validate-bookings", booked_at + timedelta(days=30, seconds=1))
    assert report.get("validated", 0) >= 1 and report["job"] == "auto-validate-bookings", report
    pro = stack.login(BOOKSELLER)
    used = requests.get(f"{stack.url}/pro/bookings", params={"status": "USED"}, headers=auth(pro), timeout=10)
    assert used.status_code == 200, used.text
    authors = {item["id"]: item["validationAuthor"] for item in used.json()["items"]}
    assert authors[booking["id"]] == "AUTO"

    admin = stack.login("admin@passculture.local")
    runs = requests.get(
        f"{stack.url}/admin/job-runs", params={"job": "auto-validate-bookings"}, headers=auth(admin), timeout=10
    )
    assert runs.status_code == 200, runs.text
    latest = runs.json()["items"][0]
    assert (latest["runId"], latest["validated"], latest["status"]) == (report["runId"], report["validated"], "DONE")
    assert (
        requests.get(
            f"{stack.url}/admin/job-runs", params={"job": "auto-validate-bookings"}, headers=auth(pro), timeout=10
        ).status_code
        == 403
    )
