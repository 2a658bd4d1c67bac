"""Offers and stocks through the offers function's real handler (moto in-process behind it)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from stdnum import luhn

from pass_culture import aws, dynamo
from pass_culture.offers.repository import stock_key
from tests.conftest import count_round_trips
from tests.events import claims_of
from tests.integration.conftest import Answer, call_api

ADMIN = claims_of("admin", "admin-1")
MEMBER = claims_of("pro", "pro-member")
OTHER_PRO = claims_of("pro", "pro-other")
CATALOGUE = (
    "ean,title,author,publisher,clil\n"
    "9782070360024,L'Étranger,Albert Camus,Gallimard,3435\n"
    "9782091890302,Mathématiques 3e,Collectif,Nathan,3000\n"
    "9782047353967,Bescherelle,Collectif,Hatier,3013\n"
)


VENUE_FIELDS = {
    "name": "Librairie", "address": "1 rue du Livre", "postalCode": "75003", "city": "Paris",
    "latitude": 48.8590, "longitude": 2.3560, "bookingEmail": "resa@librairie.example",
}  # fmt: skip


def luhn_complete(body: str) -> str:
    return body + luhn.calc_check_digit(body)


class Shop:
    """A validated offerer of MEMBER's with a venue in Paris, and the catalogue loaded."""

    def __init__(self, accounts: Any, offers: Any) -> None:
        self._module = offers
        self.accounts, self.offers = call_api(accounts), call_api(offers)
        siren = luhn_complete(str(random.randrange(10**7, 10**8)))
        offerer = self.accounts("POST", "/offerers", body={"siren": siren, "name": "Librairie"}, claims=MEMBER).body
        self.accounts(
            "POST",
            f"/admin/offerers/{offerer['id']}/validate",
            resource="/admin/offerers/{offererId}/validate",
            params={"offererId": offerer["id"]},
            claims=ADMIN,
        )
        venue = {**VENUE_FIELDS, "siret": luhn_complete(siren + "0001")}
        self.venue = self.accounts(
            "POST",
            f"/offerers/{offerer['id']}/venues",
            resource="/offerers/{offererId}/venues",
            params={"offererId": offerer["id"]},
            body=venue,
            claims=MEMBER,
        ).body
        assert self.offers("POST", "/admin/catalogue", body=CATALOGUE, claims=ADMIN, content_type="text/csv").body == {
            "loaded": 3,
            "rejected": 0,
            "rejections": [],
        }

    def create(self, claims: dict[str, str] | None = MEMBER, headers_key: str | None = None, **fields: Any) -> Answer:
        body = {"venueId": self.venue["id"], "subcategoryId": "LIVRE_PAPIER", **fields}
        if headers_key is None:
            return self.offers("POST", "/offers", body=body, claims=claims)
        import json

        from tests.events import FakeContext, api_event

        event = api_event("POST", "/offers", body=body, claims=claims, headers={"Idempotency-Key": headers_key})
        response = self._module.lambda_handler(event, FakeContext())
        return Answer(response["statusCode"], json.loads(response["body"]), {})

    def offer_route(self, method: str, offer_id: str, suffix: str = "", **kwargs: Any) -> Answer:
        return self.offers(
            method,
            f"/offers/{offer_id}{suffix}",
            resource=f"/offers/{{offerId}}{suffix}",
            params={"offerId": offer_id},
            **kwargs,
        )

    def add_stock(self, offer_id: str, claims: dict[str, str] | None = MEMBER, **fields: Any) -> Answer:
        return self.offer_route("POST", offer_id, "/stocks", body={"priceCents": 500, **fields}, claims=claims)

    def patch_stock(self, stock_id: str, claims: dict[str, str] | None = MEMBER, **fields: Any) -> Answer:
        return self.offers(
            "PATCH",
            f"/stocks/{stock_id}",
            resource="/stocks/{stockId}",
            params={"stockId": stock_id},
            body=fields,
            claims=claims,
        )

    def pro_offer(self, offer_id: str, claims: dict[str, str] | None = MEMBER) -> Answer:
        return self.offers(
            "GET",
            f"/pro/offers/{offer_id}",
            resource="/pro/offers/{offerId}",
            params={"offerId": offer_id},
            claims=claims,
        )

    def venue_offers(self, claims: dict[str, str] | None = MEMBER) -> Answer:
        venue_id = self.venue["id"]
        return self.offers(
            "GET",
            f"/venues/{venue_id}/offers",
            resource="/venues/{venueId}/offers",
            params={"venueId": venue_id},
            claims=claims,
        )


@pytest.fixture
def shop(deployed: Any) -> Shop:
    accounts = deployed("AccountsApiFunction")
    offers = deployed("OffersApiFunction")
    return Shop(accounts, offers)


IN_TEN_DAYS = (datetime.now(UTC) + timedelta(days=10)).isoformat()


@pytest.mark.parametrize(
    ("fields", "stock"),
    [
        ({"subcategoryId": "LIVRE_PAPIER", "ean": "9782070360024"}, {"priceCents": 890, "quantity": 3}),
        ({"subcategoryId": "ABO_BIBLIOTHEQUE", "name": "Carte de médiathèque"}, {"priceCents": 0}),
        (
            {"subcategoryId": "RENCONTRE", "name": "Club de lecture", "isDuo": True},
            {"priceCents": 0, "quantity": 20, "beginningDatetime": IN_TEN_DAYS},
        ),
        ({"subcategoryId": "VOD", "name": "Film", "url": "https://vod.example/film"}, {"priceCents": 499}),
        (
            {"subcategoryId": "SEANCE_CINE", "name": "Séance", "isDuo": True},
            {"priceCents": 600, "quantity": 50, "beginningDatetime": IN_TEN_DAYS},
        ),
        ({"subcategoryId": "ESCAPE_GAME", "name": "Escape game"}, {"priceCents": 2000, "quantity": 4}),
    ],
)
def test_offers_of_every_kind_are_created_with_their_stock(
    shop: Shop, fields: dict[str, Any], stock: dict[str, Any]
) -> None:
    created = shop.create(**fields)
    assert created.status == 201, created.body
    added = shop.add_stock(created.body["id"], **stock)
    assert added.status == 201, added.body
    shown = shop.offers(
        "GET", f"/offers/{created.body['id']}", resource="/offers/{offerId}", params={"offerId": created.body["id"]}
    )
    assert shown.status == 200
    assert [s["remainingQuantity"] for s in shown.body["stocks"]] == [stock.get("quantity")]
    assert shown.body["stocks"][0]["isBookable"] is True
    assert shown.body["venue"]["city"] == "Paris"


def test_books_come_from_the_catalogue_and_school_books_are_refused(shop: Shop) -> None:
    book = shop.create(ean="978-2-07-036002-4")
    assert (book.body["name"], book.body["book"]["author"], book.body["ean"]) == (
        "L'Étranger",
        "Albert Camus",
        "9782070360024",
    )
    for ean, clil in (("9782091890302", "3000"), ("9782047353967", "3013")):
        refused = shop.create(ean=ean)
        assert (refused.status, refused.body["code"]) == (422, "INELIGIBLE_BOOK")
        assert clil in refused.body["message"]
    unknown = shop.create(ean="9782070368228")
    assert (unknown.status, unknown.body["code"]) == (422, "UNKNOWN_EAN")
    named = shop.create(ean="9782070368228", name="1984")
    assert named.status == 201
    assert shop.create(ean="9782070368229", name="x").body["code"] == "INVALID_EAN"


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"subcategoryId": "CONCERT", "name": "x" * 141}, 400, "BAD_REQUEST"),
        ({"subcategoryId": "NOPE", "name": "x"}, 400, "UNKNOWN_SUBCATEGORY"),
        ({"subcategoryId": "VOD", "name": "Film"}, 422, "URL_REQUIRED"),
        ({"subcategoryId": "CONCERT", "name": "Concert", "url": "https://x.example"}, 422, "URL_NOT_ALLOWED"),
        ({"subcategoryId": "LIVRE_PAPIER", "name": "Livre", "isDuo": True}, 422, "DUO_NOT_ALLOWED"),
        ({"subcategoryId": "CONCERT", "name": "Concert", "url": "ftp://x"}, 400, "BAD_REQUEST"),
        ({"subcategoryId": "CONCERT", "name": "Concert", "colour": "red"}, 400, "BAD_REQUEST"),
        ({"subcategoryId": "CONCERT"}, 400, "BAD_REQUEST"),
    ],
)
def test_bad_offers_are_refused_naming_the_field(shop: Shop, fields: dict[str, Any], status: int, code: str) -> None:
    answer = shop.create(**fields)
    assert (answer.status, answer.body["code"]) == (status, code)
    assert answer.body["details"]


@pytest.mark.parametrize(
    ("stock", "code"),
    [
        ({"priceCents": 30001}, "BAD_REQUEST"),
        ({"priceCents": -1}, "BAD_REQUEST"),
        ({"quantity": 1_000_001}, "BAD_REQUEST"),
        ({"beginningDatetime": IN_TEN_DAYS}, "BEGINNING_NOT_ALLOWED"),
        ({"bookingLimitDatetime": "2026-12-01T10:00:00"}, "BAD_REQUEST"),  # no offset
    ],
)
def test_bad_stocks_of_a_thing(shop: Shop, stock: dict[str, Any], code: str) -> None:
    offer = shop.create(subcategoryId="ESCAPE_GAME", name="Escape").body
    assert shop.add_stock(offer["id"], **stock).body["code"] == code


def test_event_stocks_one_per_date_and_their_rules(shop: Shop) -> None:
    offer = shop.create(subcategoryId="ATELIER_PRATIQUE_ART", name="Atelier BD").body
    now = datetime.now(UTC)
    for days in (3, 10, 17):
        assert (
            shop.add_stock(
                offer["id"], priceCents=0, quantity=12, beginningDatetime=(now + timedelta(days=days)).isoformat()
            ).status
            == 201
        )
    assert shop.add_stock(offer["id"]).body["code"] == "BEGINNING_REQUIRED"
    assert (
        shop.add_stock(offer["id"], beginningDatetime=(now - timedelta(hours=1)).isoformat()).body["code"]
        == "BEGINNING_IN_PAST"
    )
    late_limit = shop.add_stock(
        offer["id"],
        beginningDatetime=(now + timedelta(days=3)).isoformat(),
        bookingLimitDatetime=(now + timedelta(days=4)).isoformat(),
    )
    assert late_limit.body["code"] == "BOOKING_LIMIT_AFTER_BEGINNING"
    shown = shop.offer_route("GET", offer["id"]).body
    assert len(shown["stocks"]) == 3
    assert [s["bookingLimitDatetime"] for s in shown["stocks"]] == [s["beginningDatetime"] for s in shown["stocks"]]


def test_quantity_never_goes_below_what_is_booked(shop: Shop) -> None:
    offer = shop.create(subcategoryId="ESCAPE_GAME", name="Escape").body
    stock = shop.add_stock(offer["id"], quantity=10).body
    table = dynamo.Table(
        aws.dynamodb(), boto3.client("dynamodb", region_name="eu-west-3").list_tables()["TableNames"][0]
    )
    table.update(stock_key(stock["id"]), dynamo.Expression("SET bookedQuantity = :b", values={":b": 6}))  # 6 booked
    assert (below := shop.patch_stock(stock["id"], quantity=5)).status == 409
    assert below.body["code"] == "QUANTITY_BELOW_BOOKED"
    assert shop.patch_stock(stock["id"], quantity=6).body["remainingQuantity"] == 0
    assert shop.patch_stock(stock["id"], unlimited=True).body["remainingQuantity"] is None
    assert shop.patch_stock(stock["id"], priceCents=1200).body["priceCents"] == 1200
    assert shop.patch_stock(stock["id"], claims=OTHER_PRO, priceCents=1).status == 403


def test_the_accroche_featuring_and_statuses_in_the_venue_listing(shop: Shop) -> None:
    first = shop.create(ean="9782070360024").body
    shop.add_stock(first["id"], quantity=1)
    sold_out = shop.create(subcategoryId="ESCAPE_GAME", name="Complet").body
    stock = shop.add_stock(sold_out["id"], quantity=2).body
    table = dynamo.Table(
        aws.dynamodb(), boto3.client("dynamodb", region_name="eu-west-3").list_tables()["TableNames"][0]
    )
    table.update(stock_key(stock["id"]), dynamo.Expression("SET bookedQuantity = :b", values={":b": 2}))
    hidden = shop.create(subcategoryId="ESCAPE_GAME", name="Retirée").body
    assert shop.offer_route("DELETE", hidden["id"], claims=MEMBER).status == 204
    edited = shop.offer_route(
        "PATCH", first["id"], body={"description": "Notre coup de cœur !", "isFeatured": True}, claims=MEMBER
    )
    assert edited.body["description"] == "Notre coup de cœur !"
    listing = shop.venue_offers().body["items"]
    assert [(o["name"], o["status"]) for o in listing] == [
        ("L'Étranger", "ACTIVE"),  # featured first
        ("Retirée", "INACTIVE"),
        ("Complet", "SOLD_OUT"),
    ]
    assert listing[2]["stocks"][0]["remainingQuantity"] == 0
    assert shop.offer_route("GET", hidden["id"]).status == 404  # deactivated: gone from the public side
    assert shop.venue_offers(OTHER_PRO).status == 403


def test_the_pro_reads_an_offer_the_public_side_hides(shop: Shop) -> None:
    """`GET /pro/offers/{offerId}`: its pro sees an inactive offer, or one of an offerer not validated yet, with every
    stock, what is booked of it and the listing's status; nobody else does."""
    offer = shop.create(subcategoryId="ESCAPE_GAME", name="Escape").body
    stock = shop.add_stock(offer["id"], quantity=3).body
    assert shop.offer_route("DELETE", offer["id"], claims=MEMBER).status == 204
    assert shop.offer_route("GET", offer["id"]).status == 404
    counter = count_round_trips(aws.dynamodb())
    seen = shop.pro_offer(offer["id"])
    assert counter.calls == ["Query", "GetItem"]  # the use case's: the offer with its stocks, the membership
    assert (seen.status, seen.body["status"], seen.body["isActive"], seen.body["name"]) == (
        200, "INACTIVE", False, "Escape",
    )  # fmt: skip
    assert [(s["id"], s["quantity"], s["bookedQuantity"], s["remainingQuantity"]) for s in seen.body["stocks"]] == [
        (stock["id"], 3, 0, 3)
    ]
    for claims, status in ((None, 401), (claims_of("beneficiary"), 403), (OTHER_PRO, 403), (ADMIN, 403)):
        assert shop.pro_offer(offer["id"], claims).status == status
    assert shop.pro_offer("unknown").status == 403

    siren = luhn_complete(str(random.randrange(10**7, 10**8)))
    offerer = shop.accounts("POST", "/offerers", body={"siren": siren, "name": "Nouvelle"}, claims=MEMBER).body
    assert offerer["validationStatus"] == "NEW"
    venue = shop.accounts(
        "POST",
        f"/offerers/{offerer['id']}/venues",
        resource="/offerers/{offererId}/venues",
        params={"offererId": offerer["id"]},
        body={**VENUE_FIELDS, "siret": luhn_complete(siren + "0001")},
        claims=MEMBER,
    ).body
    waiting = shop.create(venueId=venue["id"], subcategoryId="ESCAPE_GAME", name="En attente").body
    shop.add_stock(waiting["id"], quantity=2)
    assert shop.offer_route("GET", waiting["id"]).status == 404  # not bookable before the offerer is validated
    assert (seen := shop.pro_offer(waiting["id"])).status == 200
    assert (seen.body["status"], seen.body["stocks"][0]["remainingQuantity"]) == ("ACTIVE", 2)


def test_only_members_touch_an_offer(shop: Shop) -> None:
    offer = shop.create(subcategoryId="CONCERT", name="Concert").body
    for claims, status in ((None, 401), (claims_of("beneficiary"), 403), (OTHER_PRO, 403), (ADMIN, 403)):
        assert shop.create(claims=claims, subcategoryId="CONCERT", name="x").status == status
        assert shop.offer_route("PATCH", offer["id"], body={"description": "x"}, claims=claims).status == status
        assert shop.offer_route("DELETE", offer["id"], claims=claims).status == status
        assert shop.add_stock(offer["id"], claims=claims, beginningDatetime=IN_TEN_DAYS).status == status
        assert (
            shop.offer_route("POST", offer["id"], "/image", body={"contentType": "image/png"}, claims=claims).status
            == status
        )
    assert shop.offers("POST", "/admin/catalogue", body=CATALOGUE, claims=MEMBER, content_type="text/csv").status == 403
    assert shop.offer_route("PATCH", "unknown", body={"description": "x"}, claims=MEMBER).status == 403


def test_images_are_uploaded_straight_to_s3(shop: Shop) -> None:
    offer = shop.create(subcategoryId="CONCERT", name="Concert").body
    answer = shop.offer_route("POST", offer["id"], "/image", body={"contentType": "image/webp"}, claims=MEMBER)
    assert answer.status == 201
    upload = answer.body["upload"]
    assert upload["maxBytes"] == 10 * 1024 * 1024
    assert upload["fields"]["key"] == answer.body["imageKey"]
    assert answer.body["imageKey"].startswith(f"offer-images/{offer['id']}/")
    assert answer.body["imageKey"].endswith(".webp")
    assert shop.offer_route("GET", offer["id"]).body["imageKey"] == answer.body["imageKey"]  # the offer keeps the key
    assert (
        shop.offer_route("POST", offer["id"], "/image", body={"contentType": "image/gif"}, claims=MEMBER).status == 400
    )


def test_an_idempotency_key_creates_once(shop: Shop) -> None:
    first = shop.create(headers_key="retry-1", subcategoryId="CONCERT", name="Concert")
    again = shop.create(headers_key="retry-1", subcategoryId="CONCERT", name="Concert")
    assert first.status == again.status == 201
    assert first.body == again.body
    other_body = shop.create(headers_key="retry-1", subcategoryId="CONCERT", name="Autre concert")
    assert (other_body.status, other_body.body["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")
    assert shop.create(headers_key="retry-2", subcategoryId="CONCERT", name="Concert").body["id"] != first.body["id"]
    assert len(shop.venue_offers().body["items"]) == 2


def test_a_key_whose_record_expired_may_create_another_offer_but_not_the_same_one_twice(shop: Shop) -> None:
    """The offer's id comes from (pro, key, body): a re-run of the same request finds its offer; once the key's
    record has expired (DynamoDB's TTL, 24 h), the key used for another request creates that other offer."""
    from pass_culture.settings import get_settings

    client, table = aws.dynamodb(), get_settings().table_name

    def records_expire() -> None:  # what DynamoDB's TTL does after 24 h (a test-only Scan finds the records)
        found = client.scan(TableName=table, FilterExpression="begins_with(PK, :p)",
                            ExpressionAttributeValues={":p": {"S": "IDEMPOTENCY#"}})["Items"]  # fmt: skip
        for item in found:
            client.delete_item(TableName=table, Key={"PK": item["PK"], "SK": item["SK"]})

    first = shop.create(headers_key="reused-1", subcategoryId="CONCERT", name="Concert")
    records_expire()
    other = shop.create(headers_key="reused-1", subcategoryId="CONCERT", name="Autre concert")
    assert other.status == 201 and other.body["id"] != first.body["id"]
    records_expire()
    again = shop.create(headers_key="reused-1", subcategoryId="CONCERT", name="Concert")
    assert (again.status, again.body["id"]) == (201, first.body["id"])  # the same request: its offer, not a third
    assert len(shop.venue_offers().body["items"]) == 2


def test_round_trips_of_create_and_read(shop: Shop) -> None:
    counter = count_round_trips(aws.dynamodb())
    created = shop.create(ean="9782070360024")
    # the venue and the book; the offer's number (an atomic counter); the offer with the membership check
    assert counter.calls == ["BatchGetItem", "UpdateItem", "TransactWriteItems"]
    shop.add_stock(created.body["id"], quantity=2)
    counter.reset()
    assert shop.offer_route("GET", created.body["id"]).status == 200
    assert counter.calls == ["Query", "GetItem"]
