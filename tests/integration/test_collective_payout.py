"""Collective bookings in the biweekly payout (issue 17) against the embedded AWS (moto): USED by the daily job 48 h
after their event, in their pricing point's payable list; priced by the COLLECTIVE rule (100 %, counting for no yearly
revenue), paid to the offerer with the period's individual bookings, REIMBURSED, on their own lines of the CSV, the
statement and `GET /pro/reimbursements/{payoutId}/bookings`; a rerun pays nothing twice."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from typing import Any

from pypdf import PdfReader

from pass_culture.accounts.models import CreateVenueInput
from pass_culture.clock import paris_date, paris_midnight, parse_instant
from pass_culture.collective.repository import CollectiveRepository, collective_booking_key
from pass_culture.daily_jobs.repository import DailyJobsRepository
from pass_culture.daily_jobs.service import DailyJobs
from pass_culture.payouts.models import payout_id
from pass_culture.payouts.repository import batch_key, revenue_key
from pass_culture.payouts.rules import period_ending_before
from tests.events import claims_of
from tests.integration.booking_world import ADMIN, PRO, World, world  # noqa: F401 - the fixture
from tests.integration.collective_world import Collective, collective, stock_body  # noqa: F401 - the fixture
from tests.integration.conftest import call_api
from tests.integration.test_daily_jobs import book
from tests.integration.test_payout_batch import (  # noqa: F401 - payouts: the fixture
    Payouts,
    accept_bank_account,
    cents,
    csv_rows,
    payouts,
    stored,
    use,
)


def run_time_after(when: datetime) -> datetime:
    """The payouts job's run (02:00 Paris on the 1st or the 16th) right after the period that holds `when`."""
    day = paris_date(when)
    end = day.replace(day=16) if day.day < 16 else (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return paris_midnight(end) + timedelta(hours=2)


def collective_item(c: Collective, booking_id: str) -> dict[str, Any]:
    found = c.world.table.get(collective_booking_key(booking_id), consistent=True)
    assert found is not None
    return found


def used_collective_bookings(c: Collective, venue_id: str) -> tuple[list[dict[str, Any]], datetime]:
    """A paid visit (300 €) and a free workshop at `venue_id`, pre-booked by a teacher, confirmed by the head, USED by
    the daily job 48 h after their event; answers them (as the API answered) and the job's time."""
    uai = c.institution()
    teacher, head = c.member(uai), c.member(uai, "institution_head")
    bookings = []
    for price, name, subcategory in ((30_000, "Visite des réserves", "VISITE"),
                                     (0, "Atelier d'écriture", "ATELIER_PRATIQUE_ART")):  # fmt: skip
        created = c.create_offer(venueId=venue_id, name=name, subcategoryId=subcategory)
        assert created.status == 201, created.body
        stock = c.put_stock(created.body["id"], stock_body(price))
        assert stock.status == 200, stock.body
        booked = c.pre_book(teacher, stock.body["id"])
        assert booked.status == 201, booked.body
        assert c.act(head, booked.body["id"], "confirm").status == 200
        bookings.append(booked.body)
    table = c.world.table
    jobs = DailyJobs(DailyJobsRepository(table), queue=None, collective=CollectiveRepository(table))  # type: ignore[arg-type]
    at = max(parse_instant(b["startDatetime"]) for b in bookings) + timedelta(hours=48, minutes=1)
    assert jobs.auto_validate(at)["collectiveValidated"] == 2
    return bookings, at


def test_the_daily_job_makes_a_used_collective_booking_payable_to_its_pricing_point(collective: Collective) -> None:  # noqa: F811
    c = collective
    [paid, free], _ = used_collective_bookings(c, c.world.venue_id)
    for booking in (paid, free):
        item = collective_item(c, booking["id"])
        assert item["status"] == "USED" and "GSI3PK" not in item
        assert item["GSI2PK"] == f"PAYABLE#{c.world.venue_id}" and item["GSI2SK"].endswith(f"#{booking['id']}")
    listed = c.world.table.get({"PK": "PAYABLE_POINTS", "SK": f"PRICING_POINT#{c.world.venue_id}"})
    assert listed is not None


def test_an_offer_written_without_its_pricing_point_books_with_the_venues(collective: Collective) -> None:  # noqa: F811
    from pass_culture.collective.repository import collective_offer_key
    from pass_culture.dynamo import Expression

    c = collective
    uai = c.institution()
    teacher = c.member(uai)
    offer_id, stock_id = c.offer(price=100_00)
    assert (c.world.table.get(collective_offer_key(offer_id)) or {})["pricingPointVenueId"] == c.world.venue_id
    c.world.table.update(collective_offer_key(offer_id), Expression("REMOVE pricingPointVenueId"))  # an older offer
    booked = c.pre_book(teacher, stock_id)
    assert booked.status == 201, booked.body
    assert collective_item(c, booked.body["id"])["pricingPointVenueId"] == c.world.venue_id


def test_a_period_pays_individual_and_collective_bookings_on_their_own_lines_once(
    collective: Collective,  # noqa: F811
    payouts: Payouts,  # noqa: F811
    deployed: Any,
) -> None:
    c, w = collective, collective.world
    accept_bank_account(w)
    # The library's branch without a SIRET, paid through the offerer's venue (its pricing point)
    branch = w.accounts.create_venue(PRO, w.offerer_id, CreateVenueInput(
        name="Médiathèque annexe", comment="Bibliothèque sans SIRET", pricing_point_venue_id=w.venue_id,
        address="2 rue", postal_code="75003", city="Paris", latitude=48.86, longitude=2.35,
        booking_email="annexe@mediatheque.example",
    ))  # fmt: skip
    [visit, workshop], at = used_collective_bookings(c, branch.id)
    books = []
    stock = w.offer("LIVRE_PAPIER", 12_50, quantity=5)
    for n in range(2):  # two individual books validated in the same period
        booking_id = book(w, w.young(), stock, at - timedelta(hours=1))
        use(w, booking_id, at + timedelta(minutes=n))
        books.append(booking_id)
    time = run_time_after(at + timedelta(minutes=5))
    period = period_ending_before(time)
    assert period.start <= paris_date(at) < period.end

    payouts.run(time)
    batch = w.table.get(batch_key(period.start))
    assert batch is not None and batch["status"] == "DONE"
    assert (batch["transfers"], batch["transferredCents"], batch["bookingsPaid"]) == (1, 2 * 12_50 + 300_00, 4)
    for booking in (visit, workshop):
        item = collective_item(c, booking["id"])
        assert item["status"] == "REIMBURSED" and item["reimbursedAt"] == batch["time"]
        assert "GSI2PK" not in item and "GSI5PK" not in item  # out of the payable list, in no individual list
        assert (item["pricing"]["rule"], item["pricing"]["rate"]) == ("COLLECTIVE", 10_000)
        assert item["pricing"]["reimbursedCents"] == booking["totalPriceCents"]
        assert item["payoutId"] == payout_id(w.offerer_id, period.start)
    assert all(stored(w, i)["status"] == "REIMBURSED" for i in books)
    revenue = w.table.get(revenue_key(w.venue_id, paris_date(at).year))
    assert revenue is not None and revenue["revenueCents"] == 2 * 12_50  # collective bookings count for no tier

    # The CSV: the offerer's individual lines, then its collective ones with their institution and UAI
    files = payouts.files(period)
    prefix = f"payouts/{period.start.isoformat()}/{w.offerer_id}"
    rows = csv_rows(files[f"{prefix}/details.csv"])
    assert [row["Barème"] for row in rows] == ["BOOK", "BOOK", "COLLECTIVE", "COLLECTIVE"]
    institution = f"Collège Voltaire ({visit['uai']})"
    collective_rows = {row["Offre"]: row for row in rows[2:]}
    assert collective_rows["Visite des réserves"]["Contremarque ou établissement (UAI)"] == institution
    assert collective_rows["Visite des réserves"]["Lieu"] == "Médiathèque annexe"
    assert collective_rows["Visite des réserves"]["Taux de remboursement"] == "100 %"
    assert cents(collective_rows["Visite des réserves"]["Montant remboursé"]) == 300_00
    assert cents(collective_rows["Atelier d'écriture"]["Montant remboursé"]) == 0
    assert sum(cents(row["Montant remboursé"]) for row in rows) == 325_00

    # The statement: a section of its own, after the individual bookings
    text = re.sub(r"[ \u00a0\u202f]+", " ", "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(files[f"{prefix}/releve.pdf"])).pages
    ))  # fmt: skip
    assert text.index("Offres collectives") > text.index(books_offer_name(w, stock))
    section = text[text.index("Offres collectives") :]
    assert "Visite des réserves" in section and visit["uai"] in section and "Établissement" in section
    assert "Total offres collectives : 2 réservations" in section

    # The payout's bookings through the API: the collective ones with their kind and institution
    call = call_api(deployed("CounterApiFunction"))
    payout = payout_id(w.offerer_id, period.start)
    lines = call("GET", f"/pro/reimbursements/{payout}/bookings", resource="/pro/reimbursements/{payoutId}/bookings",
                 params={"payoutId": payout}, claims=claims_of("pro", "pro"))  # fmt: skip
    assert lines.status == 200, lines.body
    by_id = {line["bookingId"]: line for line in lines.body["items"]}
    assert set(by_id) == {visit["id"], workshop["id"], *books}
    assert by_id[visit["id"]] | {"usedAt": None} == {
        "bookingId": visit["id"], "kind": "collective", "venueId": branch.id, "venueName": "Médiathèque annexe",
        "offerName": "Visite des réserves", "token": None, "usedAt": None, "amountCents": 300_00,
        "rule": "COLLECTIVE", "rate": 10_000, "reimbursedCents": 300_00, "institutionName": "Collège Voltaire",
        "uai": visit["uai"],
    }  # fmt: skip
    assert {by_id[i]["kind"] for i in books} == {"individual"}

    # The pros' tracking reads the new status
    tracked = call("GET", "/pro/bookings", query={"offererId": w.offerer_id, "kind": "collective"},
                   claims=claims_of("pro", "pro"))  # fmt: skip
    assert {(b["id"], b["status"]) for b in tracked.body["items"]} == {
        (visit["id"], "REIMBURSED"),
        (workshop["id"], "REIMBURSED"),
    }

    # A rerun (a retry, a replay): the same batch, nothing paid twice, the same files
    again = payouts.run(time)
    assert again["resumed"] is True and again["batchStatus"] == "DONE"
    assert payouts.files(period) == files
    next_period = payouts.run(time + timedelta(days=16))
    assert next_period["pointsTotal"] >= 0
    later = w.table.get(batch_key(period_ending_before(time + timedelta(days=16)).start))
    assert later is not None and later.get("bookingsPaid", 0) == 0


def books_offer_name(w: World, stock_id: str) -> str:
    from pass_culture.offers.repository import offer_id_of_stock, offer_key

    offer = w.table.get(offer_key(offer_id_of_stock(stock_id)))
    assert offer is not None
    return str(offer["name"])


def test_a_collective_booking_waits_for_an_accepted_account_and_is_paid_by_the_next_batch(
    collective: Collective,  # noqa: F811
    payouts: Payouts,  # noqa: F811
) -> None:
    c, w = collective, collective.world
    accept_bank_account(w, accept=False)
    [visit, _], at = used_collective_bookings(c, w.venue_id)
    first = run_time_after(at)
    payouts.run(first)
    item = collective_item(c, visit["id"])
    assert item["status"] == "USED" and item["pricing"]["rule"] == "COLLECTIVE" and "payoutId" not in item
    w.accounts.accept_bank_account(ADMIN, w.offerer_id)
    second = first + timedelta(days=16)
    payouts.run(second)
    item = collective_item(c, visit["id"])
    assert item["status"] == "REIMBURSED"
    assert item["payoutId"] == payout_id(w.offerer_id, period_ending_before(second).start)
    paid = w.table.get(batch_key(period_ending_before(second).start))
    assert paid is not None and paid["transferredCents"] == 300_00
