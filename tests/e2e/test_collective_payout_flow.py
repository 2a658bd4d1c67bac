"""Issue 17 end to end, over HTTP through a local stack of its own (its daily job and its payouts run at future times,
which would move the shared stack's jobs forward): a local authority's offerer; a library's pro joins it by an
attachment request (202, then accepted) and adds its venue without SIRET on the authority's pricing point; a free
collective workshop and a paid visit; institutions loaded, a budget; a teacher pre-books the visit, the head confirms
(the budget debited); the daily job 48 h after the event makes it USED; the payout job after the period pays it at
100 % of its price, on its own line of `GET /pro/reimbursements/{payoutId}/bookings` and of the CSV."""

from __future__ import annotations

import csv
import io
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from pass_culture.clock import paris_date, paris_midnight
from pass_culture.collective.rules import school_year_of
from tests.e2e.conftest import RunningStack, local_stack
from tests.e2e.test_accounts_flow import auth, luhn_complete, new_user, outbox_email
from tests.e2e.test_collaborators_flow import venue
from tests.e2e.test_collective_flow import ADMIN_EMAIL, member, new_uai
from tests.e2e.test_daily_jobs_flow import run_job
from tests.e2e.test_payouts_flow import next_payout_day, wait_for_payout

VISIT_CENTS = 450_00
START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)  # the visit's and the workshop's date


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with local_stack(tmp_path_factory.mktemp("collective-payout-logs")) as running:
        yield running


def post(stack: RunningStack, path: str, token: str, body: Any = None, **more: Any) -> requests.Response:
    return requests.post(f"{stack.url}{path}", json=body, headers=auth(token), timeout=10, **more)


def collective_offer(stack: RunningStack, pro: str, venue_id: str, name: str, subcategory: str, price: int) -> str:
    """A collective offer of the library's venue and its stock: the stock's id."""
    offer = post(stack, "/collective-offers", pro, {
        "venueId": venue_id, "subcategoryId": subcategory, "name": name, "students": ["COLLEGE_6E"],
        "domains": ["UNIVERS_DU_LIVRE"], "interventionArea": ["93"], "contactEmail": "mediatheque@ville.example",
    })  # fmt: skip
    assert offer.status_code == 201, offer.text
    stock = requests.put(f"{stack.url}/collective-offers/{offer.json()['id']}/stock", headers=auth(pro), timeout=10,
                         json={"startDatetime": START.isoformat(), "numberOfStudents": 25, "totalPriceCents": price,
                               "bookingLimitDatetime": (START - timedelta(days=1)).isoformat()})  # fmt: skip
    assert stock.status_code == 200, stock.text
    return str(stock.json()["id"])


def test_a_librarys_collective_visit_is_paid_to_the_authority_at_100_percent(own_stack: RunningStack) -> None:
    stack = own_stack
    admin = stack.login(ADMIN_EMAIL)
    _, authority = new_user(stack, "pro")
    library_email, library = new_user(stack, "pro")

    # the local authority's offerer, validated, its town hall with a SIRET, its bank account accepted
    siren = luhn_complete(f"{uuid.uuid4().int % 10**8:08d}")
    created = post(stack, "/offerers", authority, {"siren": siren, "name": "Ville de Saint-Ouen-sur-Loire"})
    assert created.status_code == 201, created.text
    offerer_id = created.json()["id"]
    assert post(stack, f"/admin/offerers/{offerer_id}/validate", admin).status_code == 200
    hall = post(
        stack, f"/offerers/{offerer_id}/venues", authority, venue("Mairie", siret=luhn_complete(siren + "0001"))
    )
    assert hall.status_code == 201, hall.text
    account = {"iban": "FR76 3000 6000 0112 3456 7890 189", "bic": "AGRIFRPPXXX", "label": "Trésor public"}
    assert requests.put(f"{stack.url}/offerers/{offerer_id}/bank-account", json=account, headers=auth(authority),
                        timeout=10).status_code == 200  # fmt: skip
    assert post(stack, f"/admin/offerers/{offerer_id}/bank-account/accept", admin).status_code == 200

    # the library's pro asks to join (202), a member accepts; the library's venue has no SIRET
    asked = post(stack, "/offerers", library, {"siren": siren, "name": "Médiathèque"})
    assert (asked.status_code, asked.json()["status"]) == (202, "PENDING"), asked.text
    team = requests.get(f"{stack.url}/offerers/{offerer_id}/members", headers=auth(authority), timeout=10).json()
    (request,) = team["attachmentRequests"]
    accepted = post(stack, f"/offerers/{offerer_id}/attachments/{request['userId']}/accept", authority)
    assert accepted.status_code == 200, accepted.text
    outbox_email(stack, library_email, "est accepté")
    library_venue = post(stack, f"/offerers/{offerer_id}/venues", library, venue(
        "Médiathèque Louise-Michel", comment="Médiathèque municipale, sans SIRET", pricingPointVenueId=hall.json()["id"]
    ))  # fmt: skip
    assert library_venue.status_code == 201, library_venue.text
    venue_id = library_venue.json()["id"]

    # a free workshop and a paid visit; an institution with a budget, its teacher and its head
    tag = uuid.uuid4().hex[:6]
    workshop = collective_offer(stack, library, venue_id, f"Atelier kamishibaï {tag}", "ATELIER_PRATIQUE_ART", 0)
    visit = collective_offer(stack, library, venue_id, f"Visite des réserves {tag}", "VISITE", VISIT_CENTS)
    uai = new_uai()
    lines = f"uai,name,type,city,postalCode,departement\n{uai},Collège Jean-Jaurès,COLLEGE,Saint-Ouen,93400,93\n"
    loaded = requests.post(f"{stack.url}/admin/institutions", data=lines.encode(), timeout=10,
                           headers={**auth(admin), "Content-Type": "text/csv"})  # fmt: skip
    assert (loaded.status_code, loaded.json()["loaded"]) == (200, 1), loaded.text
    year = school_year_of(START)
    granted = requests.put(f"{stack.url}/admin/institutions/{uai}/budgets/{year}", json={"amountCents": 2_000_00},
                           headers=auth(admin), timeout=10)  # fmt: skip
    assert granted.status_code == 200, granted.text
    _, teacher = member(stack, admin, uai, "teacher")
    _, head = member(stack, admin, uai, "institution_head")

    # the teacher pre-books the visit and the workshop, the head confirms: the visit's price is debited
    booked = {}
    for name, stock_id in (("visit", visit), ("workshop", workshop)):
        answer = post(stack, "/collective-bookings", teacher, {"collectiveStockId": stock_id})
        assert (answer.status_code, answer.json()["status"]) == (201, "PENDING"), answer.text
        confirmed = post(stack, f"/collective-bookings/{answer.json()['id']}/confirm", head)
        assert (confirmed.status_code, confirmed.json()["status"]) == (200, "CONFIRMED"), confirmed.text
        booked[name] = answer.json()["id"]
    budgets = requests.get(f"{stack.url}/institution/bookings", headers=auth(head), timeout=10).json()["budgets"]
    assert next(b for b in budgets if b["schoolYear"] == year)["remainingCents"] == 2_000_00 - VISIT_CENTS

    # the daily job, 48 h after the event: USED
    used_at = START + timedelta(hours=49)
    report = run_job(stack, "auto-validate-bookings", used_at)
    assert report.get("collectiveValidated") == 2, report
    pro = auth(authority)
    tracked = requests.get(f"{stack.url}/pro/bookings", params={"offererId": offerer_id, "kind": "collective"},
                           headers=pro, timeout=10)  # fmt: skip
    assert {(b["id"], b["status"]) for b in tracked.json()["items"]} == {(i, "USED") for i in booked.values()}

    # the payout job after the period: the visit paid at 100 % to the authority, on a collective line
    run_day = next_payout_day(paris_date(used_at))
    job = run_job(stack, "payouts", paris_midnight(run_day) + timedelta(hours=2))
    payout = wait_for_payout(stack, pro, offerer_id, job["periodStart"])
    assert (payout["status"], payout["reimbursedCents"], payout["bookingsCount"]) == ("PAID", VISIT_CENTS, 2)
    paid = requests.get(f"{stack.url}/pro/reimbursements/{payout['id']}/bookings", headers=pro, timeout=10)
    assert paid.status_code == 200, paid.text
    by_id = {line["bookingId"]: line for line in paid.json()["items"]}
    line = by_id[booked["visit"]]
    assert (line["kind"], line["rule"], line["rate"]) == ("collective", "COLLECTIVE", 10_000)
    assert (line["amountCents"], line["reimbursedCents"]) == (VISIT_CENTS, VISIT_CENTS)
    assert (line["venueName"], line["uai"], line["institutionName"]) == ("Médiathèque Louise-Michel", uai,
                                                                          "Collège Jean-Jaurès")  # fmt: skip
    assert by_id[booked["workshop"]]["reimbursedCents"] == 0
    details = requests.get(f"{stack.url}{payout['csvUrl']}", timeout=10)
    assert details.status_code == 200
    rows = list(csv.DictReader(io.StringIO(details.content.decode("utf-8-sig")), delimiter=";"))
    (row,) = [r for r in rows if r["Offre"] == f"Visite des réserves {tag}"]
    assert row["Contremarque ou établissement (UAI)"] == f"Collège Jean-Jaurès ({uai})"
    assert (row["Barème"], row["Taux de remboursement"], row["Montant remboursé"]) == ("COLLECTIVE", "100 %", "450,00")

    deadline = time.monotonic() + 60
    while True:  # the worker marks the paid bookings after the payout is written
        tracked = requests.get(f"{stack.url}/pro/bookings", headers=pro, timeout=10,
                               params={"offererId": offerer_id, "kind": "collective"})  # fmt: skip
        statuses = {b["status"] for b in tracked.json()["items"]}
        if statuses == {"REIMBURSED"} or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert statuses == {"REIMBURSED"}
