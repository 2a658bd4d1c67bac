"""The counter through the counter function's real handler: the ordered checks, every transition from every status,
guessing stopped, booking tracking and its CSV export."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest

from pass_culture import aws, dynamo
from pass_culture.accounts.repository import credit_key
from pass_culture.bookings.repository import booking_key
from pass_culture.clock import PARIS
from pass_culture.ids import humanize
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
GET_BOOKING_RESPONSE = [  # the real API's fields, in its order (pcapi v2 `GetBookingResponse`)
    "bookingId", "dateOfBirth", "datetime", "ean13", "email", "formula", "isUsed", "offerId", "publicOfferId",
    "offerName", "offerType", "priceCategoryLabel", "phoneNumber", "price", "quantity", "theater", "userName",
    "firstName", "lastName", "venueAddress", "venueDepartmentCode", "venueName",
]  # fmt: skip


def test_a_valid_countermark_shows_the_booking_case_insensitively_as_the_real_api(world: World, counter: Any) -> None:
    booking = a_booking(world)
    shown = token_route(counter, "get", booking["token"].lower())
    assert shown.status == 200
    body = shown.body
    assert list(body)[: len(GET_BOOKING_RESPONSE)] == GET_BOOKING_RESPONSE  # ours follow: token, status, priceCents…
    offer = world.table.get({"PK": f"OFFER#{stored_offer_id(world, booking['id'])}", "SK": "OFFER"})
    assert offer is not None and isinstance(body["offerId"], int) and body["offerId"] == offer["publicId"] > 0
    assert body["publicOfferId"] == humanize(body["offerId"])
    assert (body["offerName"], body["quantity"], body["price"], body["priceCents"], body["status"]) == (
        "Livre_Papier", 1, 12.9, 1290, "CONFIRMED",
    )  # fmt: skip
    assert (body["datetime"], body["formula"], body["offerType"], body["isUsed"], body["theater"]) == (
        "", None, "BIEN", False, {},
    )  # fmt: skip
    assert (body["userName"], body["firstName"], body["lastName"]) == ("Jeanne Jeune", "Jeanne", "Jeune")
    assert body["email"].endswith("@example.org") and body["phoneNumber"] == "+33612345678"
    assert body["dateOfBirth"] == f"{date.today().year - 18}-01-01"
    assert (body["venueAddress"], body["venueDepartmentCode"], body["venueName"]) == (
        "1 rue du Livre",
        "75",
        "Librairie",
    )
    assert body["ean13"] is None and body["priceCategoryLabel"] is None


def stored_offer_id(world: World, booking_id: str) -> str:
    item = world.table.get({"PK": f"BOOKING#{booking_id}", "SK": "BOOKING"})
    assert item is not None
    return str(item["offerId"])


def test_offers_get_numbers_one_after_the_other(world: World) -> None:
    numbers = []
    for _ in range(3):
        stock_id = world.offer("LIVRE_PAPIER", 500)
        offer = world.table.get({"PK": f"OFFER#{stock_id.rsplit('.', 1)[0]}", "SK": "OFFER"})
        assert offer is not None
        numbers.append(int(offer["publicId"]))
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


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


EXPECTED = {  # the public pass Culture API's codes (docs/countermark-compatibility.md)
    #            CONFIRMED  USED  CANCELLED  REIMBURSED
    "use":      (204,       410,  410,       403),
    "keep":     (410,       204,  410,       410),
    "cancel":   (204,       403,  410,       403),
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


def freeze_counter_clock(at: datetime) -> Any:
    from functions.counter_api import app as counter_function
    from pass_culture.clock import FixedClock

    clock = FixedClock(at)
    counter_function.counter()._clock = clock
    return clock


def test_guessing_is_stopped_after_ten_failed_look_ups_a_minute(world: World, counter: Any) -> None:
    from pass_culture.counter.repository import failed_lookups_key, offerer_bucket

    at = datetime.now(UTC).replace(second=20, microsecond=0)  # 20 s into a minute: slot 3 of the minute (18-24 s)
    freeze_counter_clock(at)
    booking = a_booking(world)
    for attempt in range(10):
        assert token_route(counter, "get", f"ZZZZ{'ABCDEFGHJK'[attempt]}Z").status == 404
    blocked = token_route(counter, "get", "ZZZZZZ")
    assert (blocked.status, blocked.body["code"]) == (429, "TOO_MANY_REQUESTS")
    # The failures leave the window with their 6-second slot, 66 s after it began: 84 s into the minute.
    assert blocked.headers["Retry-After"] == "64"
    assert "64 secondes" in blocked.body["message"]
    assert token_route(counter, "get", booking["token"]).status == 429  # even a right one, until the window allows
    assert token_route(counter, "use", booking["token"]).status == 429
    api_key = {"principalId": "apikey:k1", "offererId": world.offerer_id, "apiKeyId": "k1"}
    assert token_route(counter, "get", booking["token"], claims=None, authorizer=api_key).status == 429  # same offerer
    stored = world.table.get(failed_lookups_key(offerer_bucket(world.offerer_id))) or {}
    assert sum(v for k, v in stored.items() if k.startswith("f")) == 10  # the refused ones were not counted
    assert stored["ttl"] > at.timestamp() + 60

    freeze_counter_clock(at + timedelta(seconds=63))
    assert token_route(counter, "get", booking["token"]).status == 429
    freeze_counter_clock(at + timedelta(seconds=64))
    assert token_route(counter, "get", booking["token"]).status == 200
    assert token_route(counter, "get", "ZZZZZZ").status == 404


def test_the_callers_own_bookings_are_never_failed_look_ups(world: World, counter: Any) -> None:
    """A right token of one's own booking answers its check (410 used, 403 too early, …) and is not counted."""
    freeze_counter_clock(datetime.now(UTC))
    used = a_booking(world)
    set_status(world, used["id"], "USED")
    early = a_booking(world, "CONCERT", days=10)
    for _ in range(6):
        assert token_route(counter, "get", used["token"]).status == 410
        assert token_route(counter, "use", early["token"]).status == 403
    for attempt in range(10):
        assert token_route(counter, "get", f"ZZZZ{'ABCDEFGHJK'[attempt]}Z").status == 404
    assert token_route(counter, "get", "ZZZZZZ").status == 429


def test_every_key_and_pro_of_an_offerer_share_one_budget(world: World, counter: Any) -> None:
    """Creating API keys (or inviting pros) buys no extra guesses: the offerer has 10 failures in any 60 s."""
    freeze_counter_clock(datetime.now(UTC))
    booking = a_booking(world)
    statuses = []
    for attempt in range(15):
        api_key = {"principalId": f"apikey:k{attempt}", "offererId": world.offerer_id, "apiKeyId": f"k{attempt}"}
        by_key = token_route(counter, "get", f"ZZZZZ{'ABCDEFGHJK'[attempt % 10]}", claims=None, authorizer=api_key)
        statuses.append(by_key.status)
        statuses.append(token_route(counter, "get", f"YYYYY{'ABCDEFGHJK'[attempt % 10]}").status)  # the pro
    assert statuses.count(404) == 10
    assert statuses.count(429) == 20
    # Another offerer's key guessing does not block this one, and its wrong guesses are its own failures.
    other_key = {"principalId": "apikey:x", "offererId": "another-offerer", "apiKeyId": "x"}
    assert token_route(counter, "get", booking["token"], claims=None, authorizer=other_key).status == 403
    assert token_route(counter, "get", "ZZZZZZ", claims=None, authorizer=other_key).status == 404


def test_a_pro_of_two_offerers_counts_against_both(world: World, counter: Any) -> None:
    from pass_culture.accounts.models import CreateOffererInput
    from tests.integration.booking_world import PRO, luhn_complete

    freeze_counter_clock(datetime.now(UTC))
    second = world.accounts.create_offerer(PRO, CreateOffererInput(siren=luhn_complete("12345678"), name="Cinéma"))
    for attempt in range(10):
        assert token_route(counter, "get", f"ZZZZ{'ABCDEFGHJK'[attempt]}Z").status == 404
    assert token_route(counter, "get", "ZZZZZZ").status == 429
    for offerer_id in (world.offerer_id, second.id):  # both offerers' software is blocked now
        api_key = {"principalId": "apikey:k", "offererId": offerer_id, "apiKeyId": "k"}
        assert token_route(counter, "get", "ZZZZZZ", claims=None, authorizer=api_key).status == 429


def test_round_trips_at_the_counter(world: World, counter: Any) -> None:
    """A pro: the countermark (GetItem), then the booking, their membership of its offerer and that offerer's
    failed look-ups (BatchGetItem). Venue software: the countermark with its offerer's failed look-ups, then the
    booking. A failed look-up costs one conditional write more (and, for a pro, the read of their offerers and
    windows)."""
    booking = a_booking(world)
    calls = count_round_trips(aws.dynamodb())
    assert token_route(counter, "get", booking["token"]).status == 200
    assert calls.calls == ["GetItem", "BatchGetItem"]
    calls.reset()
    assert token_route(counter, "use", booking["token"]).status == 204
    assert calls.calls == ["GetItem", "BatchGetItem", "TransactWriteItems"]
    api_key = {"principalId": "apikey:k9", "offererId": world.offerer_id, "apiKeyId": "k9"}
    calls.reset()
    assert token_route(counter, "keep", booking["token"], claims=None, authorizer=api_key).status == 204
    assert calls.calls == ["BatchGetItem", "GetItem", "UpdateItem"]
    calls.reset()
    assert token_route(counter, "get", "ZZZZZZ", claims=None, authorizer=api_key).status == 404
    assert calls.calls == ["BatchGetItem", "UpdateItem"]
    calls.reset()
    assert token_route(counter, "get", "ZZZZZZ").status == 404
    assert calls.calls == ["GetItem", "Query", "BatchGetItem", "UpdateItem"]


# -- failed look-ups under concurrency: through the embedded AWS (moto behind one lock), never in-process ---------
@pytest.fixture
def embedded_counter() -> Iterator[tuple[Any, dynamo.Table]]:
    from botocore.config import Config

    from infra.local.embedded_aws import EmbeddedAws, provision
    from infra.local.template import load_template

    embedded = EmbeddedAws()
    embedded.start()
    try:
        provisioned = provision(embedded, load_template())
        client = boto3.client(
            "dynamodb",
            endpoint_url=embedded.endpoint,
            region_name="eu-west-3",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(max_pool_connections=50),
        )
        yield embedded, dynamo.Table(client, provisioned.ref("Table"))
    finally:
        embedded.stop()


def counter_over(table: dynamo.Table, at: datetime) -> Any:
    from pass_culture.bookings.repository import BookingsRepository
    from pass_culture.clock import FixedClock
    from pass_culture.counter.repository import CounterRepository
    from pass_culture.counter.service import CounterService

    return CounterService(CounterRepository(table), BookingsRepository(table), FixedClock(at))


def guess(service: Any, caller: Any, token: str) -> tuple[int, str | None]:
    from pass_culture.errors import DomainError

    try:
        service.look_up(caller, token)
    except DomainError as error:
        return error.status, error.headers().get("Retry-After")
    return 200, None


def callers_of(table: dynamo.Table, offerer_id: str) -> list[Any]:
    """Five API keys and five pros of one offerer."""
    from pass_culture.access import Caller
    from pass_culture.accounts.repository import membership_key

    pros = [Caller(user_id=f"{offerer_id}-pro{n}", email=None, groups=frozenset({"pro"})) for n in range(5)]
    for pro in pros:
        assert pro.user_id is not None
        table.put({**membership_key(pro.user_id, offerer_id), "offererId": offerer_id, "userId": pro.user_id})
    keys = [
        Caller(user_id=None, email=None, groups=frozenset(), api_key_offerer_id=offerer_id, api_key_id=f"key{n}")
        for n in range(5)
    ]
    return keys + pros


def wrong_tokens(count: int) -> list[str]:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ234567"
    return [f"Z{alphabet[n // 30 % 30]}{alphabet[n % 30]}ZZZ" for n in range(count)]


def test_a_hundred_parallel_wrong_guesses_get_exactly_ten_answers(
    embedded_counter: tuple[Any, dynamo.Table],
) -> None:
    _, table = embedded_counter
    offerer_id = f"parallel-{uuid.uuid4().hex[:8]}"
    callers = callers_of(table, offerer_id)
    service = counter_over(table, datetime.now(UTC))
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda n_token: guess(service, callers[n_token[0] % 10], n_token[1]),
                                enumerate(wrong_tokens(100))))  # fmt: skip
    statuses = [status for status, _ in answers]
    assert statuses.count(404) == 10, statuses
    assert statuses.count(429) == 90
    assert all(60 < int(wait or 0) <= 66 for status, wait in answers if status == 429)


def test_a_burst_right_after_retry_after_gets_only_what_left_the_window(
    embedded_counter: tuple[Any, dynamo.Table],
) -> None:
    """5 failures at :05 and 5 at :35, blocked at :36 until the first five leave the window (Retry-After): a burst
    then gets 5 answers, not 10 — the fixed minute gave 10 more at :00."""
    _, table = embedded_counter
    offerer_id = f"burst-{uuid.uuid4().hex[:8]}"
    callers = callers_of(table, offerer_id)
    minute = datetime.now(UTC).replace(second=0, microsecond=0)
    tokens = wrong_tokens(51)
    for n, second in enumerate([5] * 5 + [35] * 5):
        assert guess(counter_over(table, minute + timedelta(seconds=second)), callers[n], tokens[n])[0] == 404
    status, wait = guess(counter_over(table, minute + timedelta(seconds=36)), callers[0], tokens[10])
    assert (status, wait) == (429, "30")  # the failures of :05 (slot :00-:06) stop counting at 1:06
    service = counter_over(table, minute + timedelta(seconds=36 + 30))
    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(lambda n: guess(service, callers[n % 10], tokens[11 + n]), range(40)))
    assert [status for status, _ in answers].count(404) == 5
    # Now the 5 failures of :35 and the 5 of 1:06 count, until those of :35 leave the window at 1:36.
    assert {wait for status, wait in answers if status == 429} == {"30"}


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
    assert [b["id"] for b in pro_bookings(counter, status="USED").body["items"]] == [used["id"]]
    assert [b["id"] for b in pro_bookings(counter, status="CONFIRMED").body["items"]] == [event["id"], book["id"]]
    today = datetime.now(PARIS).date().isoformat()
    tomorrow = (datetime.now(PARIS).date() + timedelta(days=1)).isoformat()
    assert len(pro_bookings(counter, status="used", period_from=today, period_to=today).body["items"]) == 1
    assert pro_bookings(counter, status="Used", period_from=tomorrow).body["items"] == []
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
    refused = pro_bookings(counter, status="paid")
    assert (refused.status, refused.body["details"][0]["field"]) == (400, "status")
    assert all(
        value in refused.body["details"][0]["problem"] for value in ("CONFIRMED", "USED", "REIMBURSED", "CANCELLED")
    )
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


def test_every_status_a_booking_shows_filters_the_tracking(world: World, counter: Any) -> None:
    """`status=` takes what the bookings show (`status` of each item), in any case; the first version's words too."""
    bookings = {status: a_booking(world) for status in STATUSES}
    assert token_route(counter, "use", bookings["USED"]["token"]).status == 204
    assert token_route(counter, "cancel", bookings["CANCELLED"]["token"]).status == 204
    reimbursed = bookings["REIMBURSED"]["id"]  # as the payouts job will: the status and its list (GSI5)
    world.table.update(
        booking_key(reimbursed),
        dynamo.Expression(
            "SET #s = :s, GSI5PK = :list",
            {"#s": "status"},
            {":s": "REIMBURSED", ":list": f"OFFERER#{world.offerer_id}#REIMBURSED"},
        ),
    )
    for status, booking in bookings.items():
        for sent in (status, status.lower(), status.capitalize()):
            shown = pro_bookings(counter, status=sent).body["items"]
            assert [(b["id"], b["status"]) for b in shown] == [(booking["id"], status)], sent
    assert pro_bookings(counter, status="validated").body["items"][0]["status"] == "USED"


def test_the_csv_export_is_safe_in_a_spreadsheet(world: World, counter: Any) -> None:
    """OWASP's CSV injection: a beneficiary or an offer named like a formula comes out as text (a leading `'`),
    the price stays a number, the `;` separator and the quoting hold."""
    from pass_culture.accounts.models import CreateBeneficiaryInput
    from tests.integration.booking_world import ADMIN

    young = world.accounts.register_beneficiary(
        ADMIN,
        CreateBeneficiaryInput(
            email=f"formula-{uuid.uuid4().hex[:8]}@example.org", first_name='=HYPERLINK("http://x","clic")',
            last_name="+1+1", birth_date=date(date.today().year - 18, 1, 1), phone="0612345678", postal_code="75011",
        ),
    )  # fmt: skip
    stock = world.offer("LIVRE_PAPIER", 1290, name="@SUM(1+1);-2")
    assert world.book(claims_of("beneficiary", young["id"]), stock).status == 201
    answer = counter("GET", "/pro/bookings/export", query={"format": "csv"}, claims=PRO_CLAIMS)
    assert answer.status == 200
    text: str = answer.body
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=";"))
    assert all(len(row) == 17 for row in rows)
    line = rows[1]
    assert line[1] == "'@SUM(1+1);-2"
    assert (line[4], line[5]) == ('\'=HYPERLINK("http://x","clic")', "'+1+1")
    assert line[11] == "12,90"
    assert '"\'@SUM(1+1);-2"' in text  # quoted: the `;` inside stays in its cell
    assert not any(cell[:1] in ("=", "+", "-", "@") for row in rows for cell in row if cell)
