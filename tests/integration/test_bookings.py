"""Bookings through the bookings function's real handler: every rule of domain.md, one transaction each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pass_culture import aws, dynamo
from pass_culture.accounts.repository import credit_key
from pass_culture.offers.models import UpdateOfferInput
from pass_culture.offers.repository import stock_key
from tests.conftest import count_round_trips
from tests.events import claims_of
from tests.integration.booking_world import PRO, World


def test_a_booking_takes_its_place_and_its_price_in_one_go(world: World) -> None:
    stock = world.offer("SEANCE_CINE", 750, quantity=5, days=5, is_duo=True)
    young = world.young()
    booked = world.book(young, stock, quantity=2)
    assert booked.status == 201, booked.body
    body = booked.body
    assert (body["status"], body["quantity"], body["amountCents"]) == ("CONFIRMED", 2, 1500)
    assert len(body["token"]) == 6
    assert body["qrCode"] == f"PASSCULTURE:v3;TOKEN:{body['token']}"
    assert body["cancellationLimitDate"] is not None
    assert world.stock(stock)["bookedQuantity"] == 2
    assert world.credit(young)["spentCents"] == 1500
    assert world.table.get(dynamo.key(f"TOKEN#{body['token']}", "TOKEN"))["bookingId"] == body["id"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("setup", "status", "code"),
    [
        ("duo on a solo offer", 400, "DUO_NOT_ALLOWED"),
        ("sold out", 409, "SOLD_OUT"),
        ("already booked", 409, "ALREADY_BOOKED"),
        ("not enough credit", 409, "INSUFFICIENT_CREDIT"),
        ("digital cap", 409, "DIGITAL_CAP_REACHED"),
        ("expired credit", 422, "CREDIT_EXPIRED"),
        ("inactive offer", 422, "OFFER_NOT_BOOKABLE"),
        ("offerer not validated", 422, "OFFER_NOT_BOOKABLE"),
        ("unknown stock", 404, "STOCK_NOT_FOUND"),
        ("not registered", 403, "BENEFICIARY_NOT_FOUND"),
    ],
)
def test_each_rule_refuses_with_its_reason_and_writes_nothing(world: World, setup: str, status: int, code: str) -> None:
    young = world.young(18)
    stock = world.offer("LIVRE_PAPIER", 1000, quantity=1)
    quantity = 1
    if setup == "duo on a solo offer":
        quantity = 2
    elif setup == "sold out":
        assert world.book(world.young(), stock).status == 201
    elif setup == "already booked":
        stock = world.offer("LIVRE_PAPIER", 1000, quantity=5)
        assert world.book(young, stock).status == 201
    elif setup == "not enough credit":
        young = world.young(15)  # 20 €
        stock = world.offer("LIVRE_PAPIER", 2500, quantity=5)
    elif setup == "digital cap":
        stock = world.offer("VOD", 6000, quantity=None, url="https://vod.example/a")
        assert world.book(young, stock).status == 201
        stock = world.offer("VOD", 6000, quantity=None, url="https://vod.example/b")  # 120 € > the 100 € cap
    elif setup == "expired credit":
        world.table.update(
            credit_key(young["sub"]),
            dynamo.Expression("SET expiresAt = :past", values={":past": "2020-01-01T00:00:00.000Z"}),
        )
    elif setup == "inactive offer":
        offer_id = stock.split(".")[0]
        world.offers.deactivate_offer(PRO, offer_id)
    elif setup == "offerer not validated":
        world.table.update(
            dynamo.key(f"OFFERER#{world.offerer_id}", "PROFILE"),
            dynamo.Expression("SET validationStatus = :n", values={":n": "NEW"}),
        )
    elif setup == "unknown stock":
        stock = "nope.nope"
    elif setup == "not registered":
        young = claims_of("beneficiary", "not-registered")
    before = world.credit(young).get("spentCents")
    answer = world.book(young, stock, quantity)
    assert (answer.status, answer.body["code"]) == (status, code)
    assert world.credit(young).get("spentCents") == before


def test_free_offers_are_bookable_with_no_credit_left(world: World) -> None:
    young = world.young(15)
    assert world.book(young, world.offer("LIVRE_PAPIER", 2000)).status == 201  # all of the 20 €
    card = world.offer("ABO_BIBLIOTHEQUE", 0, quantity=None)
    booked = world.book(young, card)
    assert booked.status == 201
    assert booked.body["amountCents"] == 0
    assert world.book(young, world.offer("LIVRE_PAPIER", 100)).body["code"] == "INSUFFICIENT_CREDIT"


def test_events_past_their_limit_or_started_are_not_bookable(world: World) -> None:
    stock = world.offer("CONCERT", 500, days=3)
    world.table.update(
        stock_key(stock),
        dynamo.Expression("SET bookingLimitDatetime = :past", values={":past": "2020-01-01T00:00:00.000Z"}),
    )
    assert world.book(world.young(), stock).body["code"] == "OFFER_NOT_BOOKABLE"


def test_cancelling_gives_back_the_place_and_the_credit(world: World) -> None:
    stock = world.offer("LIVRE_PAPIER", 1200, quantity=3)
    young = world.young()
    booking = world.book(young, stock).body
    cancelled = world.cancel(young, booking["id"])
    assert cancelled.status == 200
    assert (cancelled.body["status"], cancelled.body["cancellationReason"]) == ("CANCELLED", "BENEFICIARY")
    assert world.stock(stock)["bookedQuantity"] == 0
    assert world.credit(young)["spentCents"] == 0
    assert world.cancel(young, booking["id"]).body["code"] == "BOOKING_ALREADY_CANCELLED"
    assert world.book(young, stock).status == 201  # once cancelled, the offer can be booked again
    assert world.cancel(world.young(), booking["id"]).status == 403  # not theirs


def test_events_can_be_cancelled_only_until_their_limit(world: World) -> None:
    soon = world.offer("SPECTACLE_REPRESENTATION", 800, days=1)  # starts in 24 h: limit = booked at
    young = world.young()
    booking = world.book(young, soon).body
    assert booking["cancellationLimitDate"] == booking["bookedAt"]
    assert world.cancel(young, booking["id"]).body["code"] == "CANCELLATION_LIMIT_PASSED"
    later = world.offer("SPECTACLE_REPRESENTATION", 800, days=10)
    booking = world.book(young, later).body
    assert world.cancel(young, booking["id"]).status == 200


def test_used_bookings_cannot_be_cancelled(world: World) -> None:
    young = world.young()
    booking = world.book(young, world.offer("LIVRE_PAPIER", 500)).body
    world.table.update(
        dynamo.key(f"BOOKING#{booking['id']}", "BOOKING"),
        dynamo.Expression("SET #s = :u", {"#s": "status"}, {":u": "USED"}),
    )
    assert (answer := world.cancel(young, booking["id"])).status == 409
    assert answer.body["code"] == "BOOKING_USED"


def test_my_bookings_newest_first_ongoing_or_ended(world: World) -> None:
    young = world.young()
    first = world.book(young, world.offer("LIVRE_PAPIER", 500)).body
    second = world.book(young, world.offer("CONCERT", 500, days=10)).body
    world.cancel(young, first["id"])
    listed = world.call("GET", "/me/bookings", claims=young).body["items"]
    assert [(b["id"], b["group"]) for b in listed] == [(second["id"], "ongoing"), (first["id"], "ended")]
    assert "beneficiary" not in listed[0]


def test_an_idempotency_key_books_once(world: World) -> None:
    import json

    from tests.events import FakeContext, api_event

    stock = world.offer("LIVRE_PAPIER", 500, quantity=5)
    young = world.young()

    def book_with_key(key: str) -> tuple[int, dict[str, Any]]:
        body = {"stockId": stock, "quantity": 1}
        event = api_event("POST", "/bookings", body=body, claims=young, headers={"Idempotency-Key": key})
        response = world.module.lambda_handler(event, FakeContext())
        return response["statusCode"], json.loads(response["body"])

    first, retry = book_with_key("book-1"), book_with_key("book-1")
    assert first == retry
    assert first[0] == 201
    assert world.stock(stock)["bookedQuantity"] == 1
    assert world.credit(young)["spentCents"] == 500


def test_round_trips_of_booking_and_cancelling(world: World) -> None:
    stock = world.offer("LIVRE_PAPIER", 500, quantity=5)
    young = world.young()
    counter = count_round_trips(aws.dynamodb())
    booking = world.book(young, stock).body
    assert counter.calls == ["BatchGetItem", "TransactWriteItems"]
    counter.reset()
    world.cancel(young, booking["id"])
    assert counter.calls == ["GetItem", "TransactWriteItems"]


def test_a_stock_carries_its_offers_state_so_a_booking_checks_one_item(world: World) -> None:
    """docs/scale.md §8: the offer's check left the booking's transaction (it shared the stock's partition); the
    stock's `offerActive` follows the offer, and the stock's condition holds it."""
    stock = world.offer("LIVRE_PAPIER", 500, quantity=5)
    offer_id = stock.split(".")[0]
    assert world.stock(stock)["offerActive"] is True
    world.offers.deactivate_offer(PRO, offer_id)
    assert world.stock(stock)["offerActive"] is False
    world.offers.update_offer(PRO, offer_id, UpdateOfferInput(is_active=True))
    assert world.stock(stock)["offerActive"] is True
    young = world.young()
    counter = count_round_trips(aws.dynamodb())
    assert world.book(young, stock).status == 201
    assert counter.calls == ["BatchGetItem", "TransactWriteItems"]


def test_an_offer_deactivated_between_the_read_and_the_write_is_not_bookable_not_sold_out(world: World) -> None:
    from pass_culture.bookings.repository import BookingsRepository

    stock, young = world.offer("LIVRE_PAPIER", 500, quantity=5), world.young()
    offer_id = stock.split(".")[0]
    original = BookingsRepository.book

    def deactivated_meanwhile(self: BookingsRepository, *args: Any, **kwargs: Any) -> None:
        world.offers.deactivate_offer(PRO, offer_id)  # after the booking read the offer as active
        original(self, *args, **kwargs)

    BookingsRepository.book = deactivated_meanwhile  # type: ignore[method-assign]
    try:
        answer = world.book(young, stock)
    finally:
        BookingsRepository.book = original  # type: ignore[method-assign]
    assert (answer.status, answer.body["code"]) == (422, "OFFER_NOT_BOOKABLE")
    assert world.stock(stock)["bookedQuantity"] == 0 and world.credit(young).get("spentCents", 0) == 0


def test_an_offer_with_more_stocks_than_one_transaction_takes_closes_them_all(world: World) -> None:
    from pass_culture.offers.models import CreateStockInput

    stock = world.offer("SEANCE_CINE", 500, quantity=5, days=3)
    offer_id = stock.split(".")[0]
    beginning = datetime.now(UTC) + timedelta(days=4)
    for n in range(105):  # 106 showings: the offer and the first 98 in one transaction, the others in another
        world.offers.add_stock(PRO, offer_id, CreateStockInput(price_cents=500, quantity=5,
                                                               beginning_datetime=beginning + timedelta(hours=n)))  # fmt: skip
    world.offers.deactivate_offer(PRO, offer_id)
    offer = world.table.get(dynamo.key(f"OFFER#{offer_id}", "OFFER"))
    assert offer is not None and len(offer["stockIds"]) == 106
    assert {world.stock(stock_id)["offerActive"] for stock_id in offer["stockIds"]} == {False}
    world.offers.update_offer(PRO, offer_id, UpdateOfferInput(is_active=True))
    assert {world.stock(stock_id)["offerActive"] for stock_id in offer["stockIds"]} == {True}
