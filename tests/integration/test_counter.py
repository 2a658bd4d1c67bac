"""The counter through the counter function's real handler: the ordered checks, every transition from every status,
guessing stopped, booking tracking and its CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pass_culture import aws, dynamo
from pass_culture.accounts.repository import credit_key
from pass_culture.bookings.repository import booking_key
from pass_culture.clock import PARIS
from pass_culture.offers.repository import stock_key
from tests.conftest import count_round_trips
from tests.events import claims_of
from tests.integration.booking_world import World
from tests.integration.conftest import Answer, call_api

PRO_CLAIMS = claims_of("pro", "pro")  # the World's offerer member
OTHER_PRO = claims_of("pro", "someone-else")


@pytest.fixture
def counter(world: World, deployed: Any) -> Callable[..., Answer]:
    return call_api(deployed("CounterApiFunction"))


def token_route(
    counter: Callable[..., Answer], action: str, token: str, claims: dict[str, str] | None = PRO_CLAIMS, **kwargs: Any
) -> Answer:
    if action == "get":
        return counter(
            "GET",
            f"/v2/bookings/token/{token}",
            resource="/v2/bookings/token/{token}",
            params={"token": token},
            claims=claims,
            **kwargs,
        )
    return counter(
        "PATCH",
        f"/v2/bookings/{action}/token/{token}",
        resource=f"/v2/bookings/{action}/token/{{token}}",
        params={"token": token},
        claims=claims,
        **kwargs,
    )


def set_status(world: World, booking_id: str, status: str) -> None:
    world.table.update(booking_key(booking_id), dynamo.Expression("SET #s = :s", {"#s": "status"}, {":s": status}))


def a_booking(
    world: World, subcategory: str = "LIVRE_PAPIER", days: int | None = None, quantity: int = 1, **fields: Any
) -> dict[str, Any]:
    stock = world.offer(subcategory, 1290, quantity=5, days=days, **fields)
    answer = world.book(world.young(), stock, quantity)
    assert answer.status == 201, answer.body
    return dict(answer.body)


# -- the ordered checks -----------------------------------------------------------------------------------------
def test_a_valid_countermark_shows_the_booking_case_insensitively(world: World, counter: Any) -> None:
    booking = a_booking(world)
    shown = token_route(counter, "get", booking["token"].lower())
    assert shown.status == 200
    assert (shown.body["offerName"], shown.body["quantity"], shown.body["priceCents"], shown.body["status"]) == (
        "Livre_Papier",
        1,
        1290,
        "CONFIRMED",
    )
    assert shown.body["userName"] == "Jeanne Jeune"
    assert shown.body["email"].endswith("@example.org")
    assert shown.body["phoneNumber"] == "0612345678"


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("unknown", 404, "TOKEN_NOT_FOUND"),
        ("malformed", 404, "TOKEN_NOT_FOUND"),
        ("another offerer's", 403, "TOKEN_NOT_YOURS"),
        ("reimbursed", 403, "BOOKING_REIMBURSED"),
        ("used", 410, "BOOKING_USED"),
        ("cancelled", 410, "BOOKING_CANCELLED"),
        ("event inside its cancellation window", 403, "BOOKING_TOO_EARLY"),
        ("reimbursed and another offerer's", 403, "TOKEN_NOT_YOURS"),  # the order: "not yours" comes first
    ],
)
def test_each_check_in_its_order(world: World, counter: Any, case: str, status: int, code: str) -> None:
    booking = a_booking(world, "CONCERT", days=10) if "event" in case else a_booking(world)
    token, claims = booking["token"], PRO_CLAIMS
    if case == "unknown":
        token = "ZZZZZZ"
    elif case == "malformed":
        token = "AB0"
    elif "another offerer" in case:
        claims = OTHER_PRO
    if "reimbursed" in case:
        set_status(world, booking["id"], "REIMBURSED")
    elif case in ("used", "cancelled"):
        set_status(world, booking["id"], case.upper())
    for action in ("get", "use"):
        answer = token_route(counter, action, token, claims)
        assert (answer.status, answer.body["code"]) == (status, code), action
    if code == "BOOKING_TOO_EARLY":
        assert "Vous pourrez valider cette contremarque à partir du" in answer.body["message"]


EXPECTED = {
    #            CONFIRMED  USED  CANCELLED  REIMBURSED
    "use":      (204,       410,  410,       403),
    "keep":     (410,       204,  410,       403),
    "cancel":   (204,       410,  410,       403),
}  # fmt: skip
STATUSES = ("CONFIRMED", "USED", "CANCELLED", "REIMBURSED")


@pytest.mark.parametrize("action", list(EXPECTED))
@pytest.mark.parametrize("status", STATUSES)
def test_every_transition_from_every_status(world: World, counter: Any, action: str, status: str) -> None:
    booking = a_booking(world)
    if status != "CONFIRMED":
        set_status(world, booking["id"], status)
    answer = token_route(counter, action, booking["token"])
    assert answer.status == EXPECTED[action][STATUSES.index(status)], answer.body
    after = world.table.get(booking_key(booking["id"])) or {}
    expected_status = {("use", 204): "USED", ("keep", 204): "CONFIRMED", ("cancel", 204): "CANCELLED"}.get(
        (action, answer.status), status
    )
    assert after["status"] == expected_status


def test_validation_records_who_and_when_and_joins_the_payable_list(world: World, counter: Any) -> None:
    booking = a_booking(world)
    assert token_route(counter, "use", booking["token"]).status == 204
    stored = world.table.get(booking_key(booking["id"])) or {}
    assert stored["validationAuthor"] == "PRO:pro"
    assert datetime.fromisoformat(stored["usedAt"].replace("Z", "+00:00")) > datetime.now(UTC) - timedelta(minutes=1)
    assert stored["GSI2PK"] == f"PAYABLE#{stored['pricingPointVenueId']}"
    assert "GSI3PK" not in stored  # no more due job: the expiry job will not cancel it
    assert token_route(counter, "keep", booking["token"]).status == 204
    kept = world.table.get(booking_key(booking["id"])) or {}
    assert "usedAt" not in kept
    assert "GSI2PK" not in kept
    assert kept["GSI3PK"].startswith("DUE#EXPIRE#")


def test_venue_software_validates_with_its_api_key(world: World, counter: Any) -> None:
    booking = a_booking(world)
    api_key = {"principalId": "apikey:k9", "offererId": world.offerer_id, "apiKeyId": "k9"}
    assert token_route(counter, "use", booking["token"], claims=None, authorizer=api_key).status == 204
    assert (world.table.get(booking_key(booking["id"])) or {})["validationAuthor"] == "API_KEY:k9"
    other_key = {"principalId": "apikey:k8", "offererId": "another-offerer", "apiKeyId": "k8"}
    assert token_route(counter, "get", booking["token"], claims=None, authorizer=other_key).status == 403


def test_the_second_of_two_validations_is_gone(world: World, counter: Any) -> None:
    """Validation is conditioned on the status still being CONFIRMED: a late second counter gets 410 (the truly
    concurrent case runs through the local stack in tests/e2e/test_counter_flow.py)."""
    from pass_culture.bookings.models import Booking
    from pass_culture.counter.repository import CounterRepository, ValidationRace

    booking = Booking.model_validate(world.table.get(booking_key(a_booking(world)["id"])))
    repository = CounterRepository(world.table)
    repository.use(booking, "PRO:first", datetime.now(UTC))
    with pytest.raises(ValidationRace):
        repository.use(booking, "PRO:second", datetime.now(UTC))  # read as CONFIRMED, written after the first


def test_a_venue_cancellation_gives_back_place_and_credit(world: World, counter: Any) -> None:
    booking = a_booking(world)
    young = booking["id"]
    stored = world.table.get(booking_key(young)) or {}
    assert token_route(counter, "cancel", booking["token"]).status == 204
    after = world.table.get(booking_key(booking["id"])) or {}
    assert (after["status"], after["cancellationReason"]) == ("CANCELLED", "OFFERER")
    assert (world.table.get(stock_key(stored["stockId"])) or {})["bookedQuantity"] == 0
    assert (world.table.get(credit_key(stored["beneficiary"]["id"])) or {})["spentCents"] == 0


def test_guessing_is_stopped_after_ten_failed_look_ups_a_minute(world: World, counter: Any) -> None:
    from functions.counter_api import app as counter_function
    from pass_culture.clock import FixedClock

    # One fixed instant, 20 s into a minute: the test must not straddle two counting windows.
    at = datetime.now(UTC).replace(second=20, microsecond=0)
    counter_function.counter()._clock = FixedClock(at)
    for attempt in range(10):
        assert token_route(counter, "get", f"ZZZZ{'ABCDEFGHJK'[attempt]}Z").status == 404
    blocked = token_route(counter, "get", "ZZZZZZ")
    assert blocked.status == 429
    assert blocked.headers["Retry-After"] == "40"
    booking = a_booking(world)
    assert token_route(counter, "get", booking["token"]).status == 429  # even a right one, until the minute ends
    assert token_route(counter, "get", booking["token"], claims_of("pro", "pro")).status == 429
    minute = int(at.timestamp()) // 60
    counter_items = world.table.query_all(f"RATE#PRO:pro#{minute}")
    assert counter_items[0]["ttl"] > at.timestamp()


def test_round_trips_at_the_counter(world: World, counter: Any) -> None:
    booking = a_booking(world)
    calls = count_round_trips(aws.dynamodb())
    assert token_route(counter, "get", booking["token"]).status == 200
    assert calls.calls == ["BatchGetItem", "BatchGetItem"]
    calls.reset()
    assert token_route(counter, "use", booking["token"]).status == 204
    assert calls.calls == ["BatchGetItem", "BatchGetItem", "TransactWriteItems"]


# -- tracking and export ----------------------------------------------------------------------------------------
def pro_bookings(
    counter: Callable[..., Answer],
    claims: dict[str, str] = PRO_CLAIMS,
    period_from: str | None = None,
    period_to: str | None = None,
    **query: str,
) -> Answer:
    if period_from:
        query["from"] = period_from
    if period_to:
        query["to"] = period_to
    return counter("GET", "/pro/bookings", query=query or None, claims=claims)


def test_tracking_filters_by_status_date_venue_offer_and_event_day(world: World, counter: Any) -> None:
    book = a_booking(world)
    used = a_booking(world)
    token_route(counter, "use", used["token"])
    event = a_booking(world, "CONCERT", days=12)
    all_items = pro_bookings(counter).body["items"]
    assert [b["id"] for b in all_items] == [event["id"], used["id"], book["id"]]  # newest first
    assert [b["id"] for b in pro_bookings(counter, status="validated").body["items"]] == [used["id"]]
    assert [b["id"] for b in pro_bookings(counter, status="booked").body["items"]] == [event["id"], book["id"]]
    today = datetime.now(PARIS).date().isoformat()
    tomorrow = (datetime.now(PARIS).date() + timedelta(days=1)).isoformat()
    assert len(pro_bookings(counter, status="validated", period_from=today, period_to=today).body["items"]) == 1
    assert pro_bookings(counter, status="validated", period_from=tomorrow).body["items"] == []
    event_day = datetime.fromisoformat(event["eventDate"].replace("Z", "+00:00")).astimezone(PARIS).date()
    assert [b["id"] for b in pro_bookings(counter, eventDate=event_day.isoformat()).body["items"]] == [event["id"]]
    assert [b["id"] for b in pro_bookings(counter, offerId=book["offerId"]).body["items"]] == [book["id"]]
    assert len(pro_bookings(counter, venueId=world.venue_id).body["items"]) == 3
    assert pro_bookings(counter, venueId="elsewhere").body["items"] == []
    page = pro_bookings(counter, limit="2").body
    assert len(page["items"]) == 2
    rest = pro_bookings(counter, limit="2", cursor=page["nextCursor"]).body
    assert [b["id"] for b in rest["items"]] == [book["id"]]
    assert pro_bookings(counter, OTHER_PRO, offererId=world.offerer_id).status == 403
    assert pro_bookings(counter, status="paid").status == 400
    assert pro_bookings(counter, period_from="2026-13-45").status == 400  # a well-shaped but impossible date


def test_the_csv_export(world: World, counter: Any) -> None:
    duo = a_booking(world, "SEANCE_CINE", days=12, quantity=2, is_duo=True)
    single = a_booking(world)
    answer = counter("GET", "/pro/bookings/export", query={"format": "csv"}, claims=PRO_CLAIMS)
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    text: str = answer.body
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["Lieu", "Nom de l'offre", "Date de l'évènement"]
    assert len(rows[0]) == 17
    body = rows[1:]
    assert [(r[10], r[16]) for r in body] == [
        (single["token"], "Non"),
        (duo["token"], "DUO 1"),
        (duo["token"], "DUO 2"),
    ]
    assert body[0][11] == "12,90"
    assert body[0][12] == "réservé"
    assert body[0][14] == "Livre papier"
    assert body[0][15] == "75011"
