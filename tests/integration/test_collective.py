"""Collective offers for school groups through the collective function's handler (moto in-process): institutions and
budgets, members, offers and their stock, the teachers' search, pre-booking, confirmation, cancellation, and every
refusal in the contract's order (401 → 403 → 400 → rules)."""

from __future__ import annotations

from typing import Any

import pytest

from pass_culture.collective.repository import budget_key, collective_stock_key
from tests.events import claims_of
from tests.integration.collective_world import (
    ADMIN_CLAIMS,
    PRO_CLAIMS,
    Collective,
    new_uai,
    stock_body,
)
from tests.integration.conftest import Answer


def code(answer: Answer) -> tuple[int, str | None]:
    return answer.status, (answer.body or {}).get("code") if isinstance(answer.body, dict) else None


def spent(c: Collective, uai: str) -> int:
    from datetime import UTC, datetime, timedelta

    from pass_culture.collective.rules import school_year_of

    item = c.world.table.get(budget_key(uai, school_year_of(datetime.now(UTC) + timedelta(days=30))), consistent=True)
    return int((item or {}).get("spentCents", -1))


def test_the_whole_flow_pre_book_confirm_debit_cancel_give_back(collective: Collective) -> None:
    c = collective
    uai = c.institution(amount=100_000)
    teacher, head = c.member(uai), c.member(uai, "institution_head")
    offer_id, stock_id = c.offer(price=30_000)
    found = c.search(teacher, departement="75")
    assert found.status == 200, found.body
    assert [o["id"] for o in found.body["items"]] == [offer_id]
    assert found.body["items"][0]["stock"]["totalPriceCents"] == 30_000
    assert found.body["items"][0]["isShowcase"] is False

    booked = c.pre_book(teacher, stock_id)
    assert booked.status == 201, booked.body
    assert booked.body["status"] == "PENDING" and booked.body["uai"] == uai
    assert code(c.pre_book(c.member(uai), stock_id)) == (409, "ALREADY_BOOKED")
    assert c.search(teacher, departement="75").body["items"] == []  # booked: no longer bookable
    assert spent(c, uai) == 0  # nothing taken before the head confirms

    confirmed = c.act(head, booked.body["id"], "confirm")
    assert confirmed.status == 200, confirmed.body
    assert confirmed.body["status"] == "CONFIRMED"
    assert spent(c, uai) == 30_000
    assert code(c.act(head, booked.body["id"], "confirm")) == (409, "ALREADY_CONFIRMED")
    assert spent(c, uai) == 30_000  # never two debits

    listed = c.bookings(teacher)
    assert listed.status == 200
    assert [(b["id"], b["status"]) for b in listed.body["items"]] == [(booked.body["id"], "CONFIRMED")]
    assert listed.body["budgets"][0]["remainingCents"] == 70_000

    cancelled = c.act(head, booked.body["id"], "cancel")
    assert (cancelled.status, cancelled.body["status"]) == (200, "CANCELLED")
    assert cancelled.body["cancellationReason"] == "INSTITUTION"
    assert spent(c, uai) == 0  # given back in the same transaction
    assert code(c.act(head, booked.body["id"], "cancel")) == (410, "BOOKING_CANCELLED")
    assert "bookingId" not in (c.world.table.get(collective_stock_key(offer_id)) or {})
    again = c.pre_book(teacher, stock_id)  # the stock is free again
    assert again.status == 201, again.body
    by_venue = c.act(PRO_CLAIMS, again.body["id"], "cancel")
    assert (by_venue.status, by_venue.body["cancellationReason"]) == (200, "OFFERER")


def test_a_free_workshop_is_confirmed_without_a_budget(collective: Collective) -> None:
    c = collective
    uai = c.institution(amount=None)
    teacher, head = c.member(uai), c.member(uai, "institution_head")
    _, stock_id = c.offer(price=0)
    booked = c.pre_book(teacher, stock_id)
    assert c.act(head, booked.body["id"], "confirm").status == 200


def test_a_budget_too_low_refuses_the_confirmation(collective: Collective) -> None:
    c = collective
    uai = c.institution(amount=20_000)
    teacher, head = c.member(uai), c.member(uai, "institution_head")
    _, stock_id = c.offer(price=30_000)
    booked = c.pre_book(teacher, stock_id)
    assert code(c.act(head, booked.body["id"], "confirm")) == (409, "BUDGET_TOO_LOW")
    assert spent(c, uai) == 0
    other = c.institution(amount=None)  # no budget at all for the year
    _, stock_2 = c.offer(price=100)
    booked_2 = c.pre_book(c.member(other), stock_2)
    assert code(c.act(c.member(other, "institution_head"), booked_2.body["id"], "confirm")) == (409, "BUDGET_TOO_LOW")


def test_a_budget_cannot_go_below_what_is_spent(collective: Collective) -> None:
    c = collective
    uai = c.institution(amount=50_000)
    teacher, head = c.member(uai), c.member(uai, "institution_head")
    _, stock_id = c.offer(price=30_000)
    assert c.act(head, c.pre_book(teacher, stock_id).body["id"], "confirm").status == 200
    assert code(c.budget(uai, 29_999)) == (409, "BUDGET_BELOW_SPENT")
    raised = c.budget(uai, 30_000)
    assert (raised.status, raised.body["remainingCents"]) == (200, 0)
    assert code(c.budget(new_uai(), 1000)) == (404, "INSTITUTION_NOT_FOUND")
    assert code(c.budget("not-a-uai", 1000)) == (400, "BAD_UAI")
    assert code(c.budget(uai, 1000, year="2026-2028")) == (400, "BAD_SCHOOL_YEAR")
    assert c.budget(uai, -1).status == 400


def test_the_institutions_csv_loads_and_reports_rejected_lines(collective: Collective) -> None:
    c = collective
    uai = new_uai()
    answer = c.load(f"{uai},Lycée Hugo,LYCEE,Lyon,69003,69\n", "123,Bad,LYCEE,Lyon,69003,69\n")
    assert (answer.status, answer.body["loaded"], answer.body["rejected"]) == (200, 1, 1)
    assert answer.body["rejections"][0]["line"] == 3
    assert code(c.load(f"{uai},Lycée\n")) == (200, None)  # a short line is a rejected line, not a failure
    bad_header = c.call("POST", "/admin/institutions", body="a,b\n1,2\n", claims=ADMIN_CLAIMS, content_type="text/csv")
    assert code(bad_header) == (400, "BAD_CSV")
    as_json = c.call("POST", "/admin/institutions", body={"uai": uai}, claims=ADMIN_CLAIMS)
    assert as_json.status == 415
    as_pro = c.call("POST", "/admin/institutions", body="x", claims=PRO_CLAIMS, content_type="text/csv")
    assert code(as_pro) == (403, "FORBIDDEN_GROUP")


def test_members_are_linked_once_and_moved_by_the_admin(collective: Collective) -> None:
    c = collective
    first, second = c.institution(), c.institution()
    added = c.add_member(first, "teacher", "prof.martin@ac-paris.fr")
    assert added.status == 201 and added.body["uai"] == first
    moved = c.add_member(second, "teacher", "prof.martin@ac-paris.fr")  # the same Cognito user, linked elsewhere
    assert (moved.status, moved.body["userId"], moved.body["uai"]) == (201, added.body["userId"], second)
    assert code(c.add_member(new_uai(), "teacher")) == (404, "INSTITUTION_NOT_FOUND")
    wrong_role = c.call("POST", f"/admin/institutions/{first}/members", resource="/admin/institutions/{uai}/members",
                        params={"uai": first}, body={"email": "x@y.fr", "role": "pro"}, claims=ADMIN_CLAIMS)  # fmt: skip
    assert wrong_role.status == 400


def test_offers_and_stock_rules(collective: Collective) -> None:
    c = collective
    showcase = c.create_offer(interventionArea=["93", "94"])
    assert showcase.status == 201, showcase.body
    assert showcase.body["isShowcase"] is True and showcase.body["stock"] is None
    assert showcase.body["offererId"] == c.world.offerer_id
    offer_id = showcase.body["id"]
    assert code(c.create_offer(subcategoryId="LIVRE_PAPIER")) == (422, "NOT_COLLECTIVE_SUBCATEGORY")
    assert code(c.create_offer(venueId="nope")) == (404, "VENUE_NOT_FOUND")
    assert c.create_offer(students=[]).status == 400
    assert c.create_offer(interventionArea=["20"]).status == 400
    assert c.create_offer(domains=["NOPE"]).status == 400
    assert code(c.put_stock(offer_id, stock_body(limit_days=31))) == (422, "COLLECTIVE_STOCK_REFUSED")
    assert code(c.put_stock(offer_id, stock_body(days=-1, limit_days=-2))) == (422, "COLLECTIVE_STOCK_REFUSED")
    assert c.put_stock(offer_id, stock_body(price=6_000_001)).status == 400  # over 60 000 €
    assert c.put_stock(offer_id, {**stock_body(), "startDatetime": "2027-01-01"}).status == 400
    assert c.put_stock(offer_id, stock_body(price=6_000_000)).status == 200
    patched = c.patch(offer_id, {"name": "Atelier manga", "interventionArea": ["94"]})
    assert (patched.status, patched.body["name"], patched.body["interventionArea"]) == (200, "Atelier manga", ["94"])
    assert patched.body["stock"]["totalPriceCents"] == 6_000_000
    assert c.patch(offer_id, {"name": None}).status == 400


def test_a_booked_stock_keeps_what_the_booking_was_made_on(collective: Collective) -> None:
    c = collective
    uai = c.institution()
    offer_id, stock_id = c.offer(price=30_000)
    assert c.pre_book(c.member(uai), stock_id).status == 201
    current = c.world.table.get(collective_stock_key(offer_id)) or {}
    same = {k: current[k] for k in ("startDatetime", "bookingLimitDatetime", "numberOfStudents", "totalPriceCents")}
    assert code(c.put_stock(offer_id, {**same, "totalPriceCents": 40_000})) == (409, "COLLECTIVE_STOCK_BOOKED")
    assert code(c.put_stock(offer_id, {**same, "numberOfStudents": 30})) == (409, "COLLECTIVE_STOCK_BOOKED")
    details = c.put_stock(offer_id, {**same, "priceDetails": "Transport compris"})
    assert details.status == 200, details.body
    assert (c.world.table.get(collective_stock_key(offer_id)) or {})["priceDetails"] == "Transport compris"


def test_the_search_by_departement_domain_level_and_text_nearest_or_newest(collective: Collective) -> None:
    from pass_culture.accounts.models import CreateVenueInput
    from tests.integration.booking_world import PRO

    c = collective
    uai = c.institution(departement="93", postal="93400")
    teacher = c.member(uai)
    saint_ouen = c.world.accounts.create_venue(PRO, c.world.offerer_id, CreateVenueInput(
        name="Médiathèque de Saint-Ouen", comment="Médiathèque municipale, sans SIRET",
        pricing_point_venue_id=c.world.venue_id, address="1 place de la République", postal_code="93400",
        city="Saint-Ouen", latitude=48.91, longitude=2.33, booking_email="mediatheque@saint-ouen.example",
    ))  # fmt: skip
    at_home, _ = c.offer(name="Heure du conte", venueId=saint_ouen.id, interventionArea=[], domains=["THEATRE"],
                         students=["LYCEE_SECONDE"])  # fmt: skip
    manga, _ = c.offer(name="Rencontre manga", domains=["BANDE_DESSINEE"], students=["COLLEGE_6E"])
    writing, _ = c.offer(name="Visite de l'atelier d'écriture", domains=["UNIVERS_DU_LIVRE"])
    showcase = c.create_offer(name="Vitrine lecture", domains=["MUSIQUE"], students=["CAP_1"]).body["id"]
    nearest = c.search(teacher)  # the institution's département by default
    assert nearest.body["departement"] == "93"
    # nearest: the offers of a venue in the institution's département first, then those that travel there; newest
    # first within each
    assert [o["id"] for o in nearest.body["items"]] == [at_home, showcase, writing, manga]
    assert [o["id"] for o in c.search(teacher, sort="newest").body["items"]] == [showcase, writing, manga, at_home]
    assert [o["id"] for o in c.search(teacher, domain="BANDE_DESSINEE").body["items"]] == [manga]
    assert [o["id"] for o in c.search(teacher, level="COLLEGE_6E").body["items"]] == [manga]
    assert [o["id"] for o in c.search(teacher, q="ECRITURE").body["items"]] == [writing]
    in_paris = {o["id"] for o in c.search(teacher, departement="75").body["items"]}
    assert {showcase, writing, manga} <= in_paris and at_home not in in_paris
    page = c.search(teacher, limit="1")
    assert len(page.body["items"]) <= 1 and page.body["nextCursor"]
    rest = c.search(teacher, limit="5", cursor=page.body["nextCursor"])
    assert rest.status == 200
    assert c.search(teacher, departement="99").status == 400
    assert c.search(teacher, domain="NOPE").status == 400
    assert c.search(teacher, sort="cheapest").status == 400
    assert code(c.search(claims_of("teacher", "not-linked"))) == (403, "NOT_INSTITUTION_MEMBER")
    assert c.patch(manga, {"isActive": False}).status == 200
    assert manga not in [o["id"] for o in c.search(teacher).body["items"]]


def test_a_teacher_asks_the_venue_about_a_showcase(collective: Collective) -> None:
    c = collective
    teacher = c.member(c.institution())
    showcase = c.create_offer().body["id"]
    asked = c.request(teacher, showcase, {"comment": "Pour deux classes de 5e en mars", "totalStudents": 50})
    assert asked.status == 201, asked.body
    offer_id, _ = c.offer()
    assert code(c.request(teacher, offer_id, {"comment": "?"})) == (422, "NOT_A_SHOWCASE_OFFER")
    assert code(c.request(teacher, "nope", {"comment": "?"})) == (404, "COLLECTIVE_OFFER_NOT_FOUND")
    assert c.request(teacher, showcase, {"comment": ""}).status == 400


def test_who_may_call_is_answered_before_the_request_is_looked_at(collective: Collective) -> None:
    c = collective
    uai = c.institution()
    teacher, head = c.member(uai), c.member(uai, "institution_head")
    offer_id, stock_id = c.offer()
    other_pro = claims_of("pro", "another-pro")
    # 401: no identity
    assert c.call("GET", "/collective-offers").status == 401
    assert c.pre_book({}, stock_id).status == 401
    # 403: the wrong group, before a bad body
    assert code(c.pre_book(head, stock_id)) == (403, "FORBIDDEN_GROUP")
    assert code(c.pre_book(PRO_CLAIMS, stock_id)) == (403, "FORBIDDEN_GROUP")
    assert code(c.search(claims_of("beneficiary", "young"))) == (403, "FORBIDDEN_GROUP")
    assert code(c.create_offer(claims=teacher)) == (403, "FORBIDDEN_GROUP")
    assert code(c.budget(uai, 10) if False else c.call(
        "PUT", f"/admin/institutions/{uai}/budgets/2026-2027", resource="/admin/institutions/{uai}/budgets/{schoolYear}",
        params={"uai": uai, "schoolYear": "2026-2027"}, body={"amountCents": "x"}, claims=teacher)) == (403, "FORBIDDEN_GROUP")  # fmt: skip
    # 403: not a member of the offerer, whether the offer exists or not, before a bad body
    assert code(c.patch(offer_id, {"name": 12}, claims=other_pro)) == (403, "NOT_OFFERER_MEMBER")
    assert code(c.patch("unknown", {"name": "x"}, claims=other_pro)) == (403, "NOT_OFFERER_MEMBER")
    assert code(c.put_stock(offer_id, {}, claims=other_pro)) == (403, "NOT_OFFERER_MEMBER")
    # 400: the shape
    assert c.pre_book(teacher, 12).status == 400  # type: ignore[arg-type]
    assert (
        c.call("POST", "/collective-bookings", body={"collectiveStockId": stock_id, "x": 1}, claims=teacher).status
        == 400
    )
    assert c.patch(offer_id, {"name": 12}).status == 400
    # the rules
    assert code(c.pre_book(teacher, "unknown-stock")) == (404, "COLLECTIVE_STOCK_NOT_FOUND")
    booked = c.pre_book(teacher, stock_id).body
    assert code(c.act(other_pro, booked["id"], "cancel")) == (403, "NOT_OFFERER_MEMBER")
    assert code(c.act(teacher, booked["id"], "confirm")) == (403, "FORBIDDEN_GROUP")
    other_head = c.member(c.institution(), "institution_head")
    assert code(c.act(other_head, booked["id"], "confirm")) == (403, "NOT_INSTITUTION_MEMBER")
    assert code(c.act(other_head, booked["id"], "cancel")) == (403, "NOT_INSTITUTION_MEMBER")
    assert code(c.act(head, "unknown", "confirm")) == (404, "COLLECTIVE_BOOKING_NOT_FOUND")
    assert code(c.act(claims_of("institution_head", "not-linked"), booked["id"], "confirm")) == (
        403, "NOT_INSTITUTION_MEMBER",
    )  # fmt: skip
    assert code(c.bookings(claims_of("teacher", "not-linked"))) == (403, "NOT_INSTITUTION_MEMBER")
    assert code(c.bookings(PRO_CLAIMS)) == (403, "FORBIDDEN_GROUP")


def test_an_offer_whose_offerer_is_not_validated_cannot_be_pre_booked(collective: Collective) -> None:
    from pass_culture.accounts.repository import offerer_key

    c = collective
    teacher = c.member(c.institution())
    _, stock_id = c.offer()
    c.world.table.update(offerer_key(c.world.offerer_id), _set_status("NEW"))
    assert code(c.pre_book(teacher, stock_id)) == (422, "NOT_BOOKABLE")


def _set_status(status: str) -> Any:
    from pass_culture.dynamo import Expression

    return Expression("SET validationStatus = :s", values={":s": status})


def test_nothing_is_cancelled_once_the_event_has_started(collective: Collective) -> None:
    from datetime import UTC, datetime, timedelta

    from pass_culture.access import Caller
    from pass_culture.clock import FixedClock
    from pass_culture.collective.repository import CollectiveRepository
    from pass_culture.collective.service import CollectiveService
    from pass_culture.errors import Conflict, RuleRefused

    c = collective
    uai = c.institution()
    head = c.member(uai, "institution_head")
    _, stock_id = c.offer(price=1000)
    booked = c.pre_book(c.member(uai), stock_id).body
    after_start = CollectiveService(CollectiveRepository(c.world.table), None,  # type: ignore[arg-type]
                                    FixedClock(datetime.now(UTC) + timedelta(days=31)))  # fmt: skip
    as_head = Caller(user_id=head["sub"], email=None, groups=frozenset({"institution_head"}))
    with pytest.raises(RuleRefused) as too_late:
        after_start.confirm(as_head, booked["id"])
    assert too_late.value.code == "BOOKING_LIMIT_PASSED"
    with pytest.raises(Conflict) as started:
        after_start.cancel(as_head, booked["id"])
    assert started.value.code == "CANCELLATION_TOO_LATE"
    assert c.act(head, booked["id"], "confirm").status == 200  # today, both are still possible


def test_a_deactivated_offer_cannot_be_pre_booked(collective: Collective) -> None:
    c = collective
    teacher = c.member(c.institution())
    offer_id, stock_id = c.offer()
    assert c.patch(offer_id, {"isActive": False}).status == 200
    assert code(c.pre_book(teacher, stock_id)) == (422, "NOT_BOOKABLE")
    assert c.patch(offer_id, {"isActive": True}).status == 200
    assert c.pre_book(teacher, stock_id).status == 201


def test_round_trips_of_pre_booking_and_confirming(collective: Collective) -> None:
    from pass_culture import aws
    from tests.conftest import count_round_trips

    c = collective
    uai = c.institution()
    teacher, head = c.member(uai), c.member(uai, "institution_head")
    _, stock_id = c.offer(price=1000)
    trips = count_round_trips(aws.dynamodb())
    booked = c.pre_book(teacher, stock_id)
    assert booked.status == 201
    # member, offer, stock, institution; the transaction
    assert trips.calls == ["GetItem", "GetItem", "GetItem", "GetItem", "TransactWriteItems"]
    trips.reset()
    assert c.act(head, booked.body["id"], "confirm").status == 200
    assert trips.calls == ["GetItem", "GetItem", "GetItem", "TransactWriteItems"]  # member, booking, budget


def test_the_pros_tracking_lists_collective_bookings_by_kind(collective: Collective, deployed: Any) -> None:
    from tests.integration.conftest import call_api

    c = collective
    uai = c.institution()
    teacher, head = c.member(uai), c.member(uai, "institution_head")
    _, first_stock = c.offer(price=30_000, name="Visite des réserves")
    _, second_stock = c.offer(price=0, name='=HYPERLINK("x")')
    first = c.pre_book(teacher, first_stock).body
    second = c.pre_book(teacher, second_stock).body
    assert c.act(head, first["id"], "confirm").status == 200
    individual = c.world.booking(c.world.young())  # a young person's booking of the same offerer
    counter = call_api(deployed("CounterApiFunction"))
    query = {"offererId": c.world.offerer_id}

    def listed(**more: str) -> list[tuple[str, str]]:
        answer = counter("GET", "/pro/bookings", query={**query, **more}, claims=PRO_CLAIMS)
        assert answer.status == 200, answer.body
        return [(b["id"], b["status"]) for b in answer.body["items"]]

    assert listed(kind="collective") == [(second["id"], "PENDING"), (first["id"], "CONFIRMED")]
    assert listed(kind="collective", status="CONFIRMED") == [(first["id"], "CONFIRMED")]
    assert listed() == [(individual["id"], "CONFIRMED")]  # individual ones by default, as before
    assert listed(kind="individual") == [(individual["id"], "CONFIRMED")]
    assert counter("GET", "/pro/bookings", query={**query, "kind": "both"}, claims=PRO_CLAIMS).status == 400
    exported = counter("GET", "/pro/bookings/export", query={**query, "kind": "collective"}, claims=PRO_CLAIMS)
    assert exported.status == 200
    lines = exported.body.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Lieu;Nom de l'offre;Date de l'évènement;Établissement;UAI")
    assert len(lines) == 3 and "300,00" in lines[2] and "confirmé" in lines[2]
    assert "'=HYPERLINK" in lines[1]  # a pro's text never becomes a formula


def test_the_daily_job_marks_confirmed_collective_bookings_used_48_hours_after_the_event(
    collective: Collective,
) -> None:
    from datetime import timedelta

    from pass_culture.clock import parse_instant
    from pass_culture.collective.repository import CollectiveRepository, collective_booking_key
    from pass_culture.daily_jobs.repository import DailyJobsRepository
    from pass_culture.daily_jobs.service import DailyJobs

    c = collective
    uai = c.institution()
    teacher, head = c.member(uai), c.member(uai, "institution_head")
    bookings = [c.pre_book(teacher, c.offer(price=price)[1]).body for price in (0, 1000, 2000)]
    confirmed, cancelled, _pending = bookings
    assert c.act(head, confirmed["id"], "confirm").status == 200
    assert c.act(head, cancelled["id"], "confirm").status == 200
    assert c.act(head, cancelled["id"], "cancel").status == 200  # out of the job's index
    table = c.world.table
    jobs = DailyJobs(DailyJobsRepository(table), queue=None, collective=CollectiveRepository(table))  # type: ignore[arg-type]
    start = parse_instant(confirmed["startDatetime"])

    def status(booking: dict[str, Any]) -> str:
        return str((table.get(collective_booking_key(booking["id"])) or {})["status"])

    early = jobs.auto_validate(start + timedelta(hours=47, minutes=59))
    assert early.get("collectiveValidated", 0) == 0 and status(confirmed) == "CONFIRMED"
    report = jobs.auto_validate(start + timedelta(hours=48, minutes=1))
    assert report["collectiveValidated"] == 1
    assert [status(b) for b in bookings] == ["USED", "CANCELLED", "PENDING"]
    used = table.get(collective_booking_key(confirmed["id"])) or {}
    assert used["validationAuthor"] == "AUTO" and "GSI3PK" not in used
    replay = jobs.auto_validate(start + timedelta(hours=48, minutes=1))  # a replay changes nothing
    assert replay.get("collectiveValidated", 0) == 0
    assert code(c.act(head, confirmed["id"], "cancel"))[0] == 409  # used: no longer cancellable


def test_a_pending_booking_not_confirmed_by_its_limit_is_cancelled_by_the_expiry_job(collective: Collective) -> None:
    from datetime import timedelta

    from pass_culture.clock import paris_date, paris_midnight, parse_instant
    from pass_culture.collective.repository import CollectiveRepository, collective_booking_key
    from pass_culture.daily_jobs.repository import DailyJobsRepository
    from pass_culture.daily_jobs.service import DailyJobs

    c = collective
    uai = c.institution()
    teacher, head = c.member(uai), c.member(uai, "institution_head")
    _, stock_id = c.offer(price=1000)
    pending = c.pre_book(teacher, stock_id).body
    confirmed = c.pre_book(teacher, c.offer(price=1000)[1]).body
    assert c.act(head, confirmed["id"], "confirm").status == 200
    table = c.world.table
    jobs = DailyJobs(DailyJobsRepository(table), queue=None, collective=CollectiveRepository(table))  # type: ignore[arg-type]
    limit = parse_instant(pending["bookingLimitDatetime"])
    on_limit_day = jobs.expire(paris_midnight(paris_date(limit)) + timedelta(minutes=30))
    assert on_limit_day.get("collectiveExpired", 0) == 0
    report = jobs.expire(paris_midnight(paris_date(limit) + timedelta(days=1)) + timedelta(minutes=30))
    assert report["collectiveExpired"] == 1
    expired = table.get(collective_booking_key(pending["id"])) or {}
    assert (expired["status"], expired["cancellationReason"]) == ("CANCELLED", "EXPIRED")
    assert str((table.get(collective_booking_key(confirmed["id"])) or {})["status"]) == "CONFIRMED"
    assert "bookingId" not in (table.get(collective_stock_key(stock_id.removesuffix("-stock"))) or {})
    again = jobs.expire(paris_midnight(paris_date(limit) + timedelta(days=1)) + timedelta(minutes=30))
    assert again.get("collectiveExpired", 0) == 0  # a replay changes nothing
