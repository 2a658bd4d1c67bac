"""The payouts over HTTP, by time travel: a bookshop's validated booking is paid by the next batch (the job, then
the worker through the local SQS), the pro sees the payout with its statement and CSV, the venue is emailed once,
and the job fired again pays nothing twice."""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta
from typing import Any

import requests

from pass_culture.clock import SystemClock, paris_date, paris_midnight
from tests.e2e.conftest import RunningStack
from tests.e2e.test_accounts_flow import outbox_email
from tests.e2e.test_bookings_flow import BOOKSELLER, auth, bookshop_offer
from tests.e2e.test_counter_flow import book
from tests.e2e.test_daily_jobs_flow import run_job

VENUE_EMAIL = "contact@librairie-marais.example"


def next_payout_day(today: date) -> date:
    return today.replace(day=16) if today.day < 16 else (today.replace(day=28) + timedelta(days=4)).replace(day=1)


def wait_for_payout(stack: RunningStack, pro: dict[str, str], offerer_id: str, period_start: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        answer = requests.get(f"{stack.url}/pro/reimbursements", params={"offererId": offerer_id}, headers=pro,
                              timeout=10)  # fmt: skip
        assert answer.status_code == 200, answer.text
        found = [p for p in answer.json()["items"] if p["period"]["start"] == period_start]
        if found or time.monotonic() > deadline:
            assert found, answer.json()
            return dict(found[0])
        time.sleep(0.3)


def test_a_validated_booking_is_paid_by_the_next_batch_once(stack: RunningStack) -> None:
    name = f"Coffret {uuid.uuid4().hex[:6]}"
    offer_id, stock_id = bookshop_offer(stack, name, 8_00, 3)
    offerer_id = requests.get(f"{stack.url}/offers/{offer_id}", timeout=10).json()["offererId"]
    pro, admin = auth(stack.login(BOOKSELLER)), auth(stack.login("admin@passculture.local"))
    account = {"iban": "FR76 3000 6000 0112 3456 7890 189", "bic": "AGRIFRPPXXX", "label": "Compte librairie"}
    assert requests.put(f"{stack.url}/offerers/{offerer_id}/bank-account", json=account, headers=pro,
                        timeout=10).status_code == 200  # fmt: skip
    assert requests.post(f"{stack.url}/admin/offerers/{offerer_id}/bank-account/accept", headers=admin,
                         timeout=10).status_code == 200  # fmt: skip
    token = book(stack, stock_id)["token"]
    assert requests.patch(f"{stack.url}/v2/bookings/use/token/{token}", headers=pro, timeout=10).status_code == 204

    run_day = next_payout_day(paris_date(SystemClock().now()))
    report = run_job(stack, "payouts", paris_midnight(run_day) + timedelta(hours=2))
    payout = wait_for_payout(stack, pro, offerer_id, report["periodStart"])
    assert payout["status"] == "PAID" and payout["reimbursedCents"] >= 8_00

    deadline = time.monotonic() + 60
    while True:  # the worker marks the bookings after the payout is written
        lines = requests.get(f"{stack.url}/pro/reimbursements/{payout['id']}/bookings", headers=pro, timeout=10)
        shown = requests.get(f"{stack.url}/v2/bookings/token/{token}", headers=pro, timeout=10)
        if shown.status_code == 403 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert shown.status_code == 403 and "remboursée" in shown.text  # REIMBURSED: the counter refuses it
    assert [(line["rule"], line["rate"], line["reimbursedCents"]) for line in lines.json()["items"]
            if line["token"] == token] == [("STANDARD", 10_000, 8_00)]  # fmt: skip

    statement = requests.get(f"{stack.url}{payout['statementUrl']}", timeout=10)
    assert statement.status_code == 200 and statement.content.startswith(b"%PDF")
    details = requests.get(f"{stack.url}{payout['csvUrl']}", timeout=10)
    assert details.status_code == 200 and token in details.content.decode("utf-8-sig")

    email = outbox_email(stack, VENUE_EMAIL, "Votre remboursement est disponible", within=10)
    assert payout["period"]["label"] in email["subject"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the other offerers' bookings of the batch are being marked too
        batches = requests.get(f"{stack.url}/admin/job-runs", params={"job": "payouts"}, headers=admin, timeout=10)
        if any(b["periodStart"] == report["periodStart"] and b["status"] == "DONE" for b in batches.json()["items"]):
            break
        time.sleep(0.3)
    again = run_job(stack, "payouts", paris_midnight(run_day) + timedelta(hours=8))  # the check run
    assert again["batchStatus"] == "DONE" and again["resumed"] is True and again["unfinished"] is False
    outbox_email(stack, VENUE_EMAIL, "Votre remboursement est disponible", within=0)  # still exactly one
