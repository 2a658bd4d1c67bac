"""Seed data for the local stack: the two kinds of venue the source documents describe (a bookshop with its SIRET,
a local authority's media library without one, reimbursed through a pricing point), a few offers, an admin and one
18-year-old beneficiary. Items follow docs/data-model.md; they are written directly until the accounts and offers
use cases exist, after which the seed goes through them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from stdnum import ean, luhn

from infra.local.stack import LocalStack
from pass_culture import dynamo
from pass_culture.clock import isoformat
from pass_culture.ids import new_id

PASSWORD = "Culture-Locale-2026"


@dataclass(frozen=True)
class Login:
    group: str
    email: str
    password: str
    description: str


def siren(prefix: str) -> str:
    """A valid SIREN (8 digits + Luhn check digit)."""
    return prefix + luhn.calc_check_digit(prefix)


def siret(siren_: str, nic_prefix: str) -> str:
    """A valid SIRET: the SIREN, 4 digits of establishment number and a Luhn check digit over all 14."""
    body = siren_ + nic_prefix
    return body + luhn.calc_check_digit(body)


def isbn13(prefix: str) -> str:
    return prefix + ean.calc_check_digit(prefix)


def seed(stack: LocalStack) -> list[Login]:
    assert stack.provisioned is not None
    table = dynamo.Table(stack.aws.client("dynamodb"), str(stack.provisioned.ref("Table")))
    now = datetime.now(UTC)
    logins = [
        Login("admin", "admin@passculture.local", PASSWORD, "pass Culture staff"),
        Login("pro", "libraire@librairie-marais.example", PASSWORD, "bookshop, venue with a SIRET"),
        Login("pro", "mediatheque@saint-ouen-sur-loire.example", PASSWORD, "local authority, library without SIRET"),
        Login("beneficiary", "jeune@passculture.local", PASSWORD, "18 years old, 300 € credit"),
    ]
    names = {
        "admin": ("Camille", "Admin"),
        "libraire@librairie-marais.example": ("Louise", "Libraire"),
        "mediatheque@saint-ouen-sur-loire.example": ("Marc", "Bibliothécaire"),
        "jeune@passculture.local": ("Jeanne", "Jeune"),
    }
    user_ids = {}
    for login in logins:
        first, last = names.get(login.email, names["admin"])
        user_ids[login.email] = stack.create_user(login.email, login.password, login.group, first, last, "+33600000000")

    bookshop = _offerer(table, now, siren("41234567"), "Librairie du Marais", user_ids[logins[1].email])
    bookshop_venue = _venue(
        table,
        now,
        bookshop,
        "Librairie du Marais",
        siret_=siret(bookshop["siren"], "0001"),
        address="12 rue des Archives",
        postal_code="75003",
        city="Paris",
        lat=48.8590,
        lon=2.3560,
        booking_email="contact@librairie-marais.example",
    )
    authority = _offerer(table, now, siren("21450123"), "Commune de Saint-Ouen-sur-Loire", user_ids[logins[2].email])
    pricing_point = _venue(
        table,
        now,
        authority,
        "Direction de la culture",
        siret_=siret(authority["siren"], "0001"),
        address="1 place de la Mairie",
        postal_code="45000",
        city="Orléans",
        lat=47.9029,
        lon=1.9093,
        booking_email="culture@saint-ouen-sur-loire.example",
    )
    library = _venue(
        table,
        now,
        authority,
        "Médiathèque Jacques-Prévert",
        siret_=None,
        comment="Médiathèque municipale rattachée à la commune (SIRET de la collectivité).",
        pricing_point_venue_id=pricing_point["id"],
        address="5 allée des Lecteurs",
        postal_code="45000",
        city="Orléans",
        lat=47.9050,
        lon=1.9120,
        booking_email="mediatheque@saint-ouen-sur-loire.example",
    )
    _offer(
        table,
        now,
        bookshop_venue,
        "LIVRE_PAPIER",
        "L'Étranger",
        price_cents=890,
        quantity=3,
        ean_=isbn13("978207036002"),
        description="Le coup de cœur de la librairie.",
    )
    _offer(
        table,
        now,
        bookshop_venue,
        "LIVRE_PAPIER",
        "Les Misérables (tome 1)",
        price_cents=1290,
        quantity=5,
        ean_=isbn13("978225300609"),
    )
    _offer(table, now, library, "ABO_BIBLIOTHEQUE", "Carte d'abonnement à la médiathèque", price_cents=0, quantity=None)
    _offer(
        table,
        now,
        library,
        "RENCONTRE",
        "Club de lecture : les classiques",
        price_cents=0,
        quantity=20,
        beginning=now + timedelta(days=10),
        is_duo=True,
    )
    _beneficiary(table, now, user_ids[logins[3].email], logins[3].email)
    return logins


def _offerer(table: dynamo.Table, now: datetime, siren_: str, name: str, pro_user_id: str) -> dict[str, Any]:
    offerer_id = new_id()
    item = {
        **dynamo.key(f"OFFERER#{offerer_id}", "PROFILE"),
        "entity": "OFFERER",
        "id": offerer_id,
        "siren": siren_,
        "name": name,
        "validationStatus": "VALIDATED",
        "createdAt": isoformat(now),
    }
    table.transact(
        [
            dynamo.Put(item, dynamo.ITEM_IS_NEW),
            dynamo.Put({**dynamo.key(f"SIREN#{siren_}", "UNIQUE"), "offererId": offerer_id}, dynamo.ITEM_IS_NEW),
            dynamo.Put(
                {
                    **dynamo.key(f"USER#{pro_user_id}", f"OFFERER#{offerer_id}"),
                    "entity": "USER_OFFERER",
                    "GSI1PK": f"OFFERER#{offerer_id}",
                    "GSI1SK": f"USER#{pro_user_id}",
                    "offererId": offerer_id,
                    "userId": pro_user_id,
                }
            ),
        ]
    )
    return item


def _venue(
    table: dynamo.Table,
    now: datetime,
    offerer: dict[str, Any],
    name: str,
    *,
    siret_: str | None,
    address: str,
    postal_code: str,
    city: str,
    lat: float,
    lon: float,
    booking_email: str,
    comment: str | None = None,
    pricing_point_venue_id: str | None = None,
) -> dict[str, Any]:
    venue_id = new_id()
    item = {
        **dynamo.key(f"VENUE#{venue_id}", "PROFILE"),
        "entity": "VENUE",
        "id": venue_id,
        "offererId": offerer["id"],
        "GSI1PK": f"OFFERER#{offerer['id']}",
        "GSI1SK": f"VENUE#{venue_id}",
        "name": name,
        "siret": siret_,
        "comment": comment,
        "pricingPointVenueId": pricing_point_venue_id or (venue_id if siret_ else None),
        "address": address,
        "postalCode": postal_code,
        "city": city,
        "latitude": lat,
        "longitude": lon,
        "bookingEmail": booking_email,
        "createdAt": isoformat(now),
    }
    operations: list[dynamo.Operation] = [dynamo.Put(item, dynamo.ITEM_IS_NEW)]
    if siret_:
        operations.append(
            dynamo.Put({**dynamo.key(f"SIRET#{siret_}", "UNIQUE"), "venueId": venue_id}, dynamo.ITEM_IS_NEW)
        )
    table.transact(operations)
    return item


def _offer(
    table: dynamo.Table,
    now: datetime,
    venue: dict[str, Any],
    subcategory_id: str,
    name: str,
    *,
    price_cents: int,
    quantity: int | None,
    ean_: str | None = None,
    description: str = "",
    beginning: datetime | None = None,
    is_duo: bool = False,
) -> None:
    offer_id, stock_id = new_id(), new_id()
    created = isoformat(now)
    table.transact(
        [
            dynamo.Put(
                {
                    **dynamo.key(f"OFFER#{offer_id}", "OFFER"),
                    "entity": "OFFER",
                    "id": offer_id,
                    "venueId": venue["id"],
                    "offererId": venue["offererId"],
                    "GSI1PK": f"VENUE#{venue['id']}",
                    "GSI1SK": f"OFFER#{created}#{offer_id}",
                    "name": name,
                    "subcategoryId": subcategory_id,
                    "ean": ean_,
                    "description": description,
                    "isDuo": is_duo,
                    "isActive": True,
                    "createdAt": created,
                    "venue": {k: venue[k] for k in ("name", "address", "postalCode", "city", "latitude", "longitude")},
                }
            ),
            dynamo.Put(
                {
                    **dynamo.key(f"OFFER#{offer_id}", f"STOCK#{stock_id}"),
                    "entity": "STOCK",
                    "id": stock_id,
                    "offerId": offer_id,
                    "priceCents": price_cents,
                    "quantity": quantity,
                    "bookedQuantity": 0,
                    "beginningDatetime": isoformat(beginning) if beginning else None,
                    "bookingLimitDatetime": isoformat(beginning - timedelta(hours=1)) if beginning else None,
                    "createdAt": created,
                }
            ),
        ]
    )


def _beneficiary(table: dynamo.Table, now: datetime, user_id: str, email: str) -> None:
    today = now.date()
    birth = date(today.year - 18, today.month, 1) - timedelta(days=62)
    table.transact(
        [
            dynamo.Put(
                {
                    **dynamo.key(f"USER#{user_id}", "PROFILE"),
                    "entity": "BENEFICIARY",
                    "id": user_id,
                    "email": email,
                    "firstName": "Jeanne",
                    "lastName": "Jeune",
                    "birthDate": birth.isoformat(),
                    "phone": "+33600000000",
                    "postalCode": "75011",
                    "createdAt": isoformat(now),
                }
            ),
            dynamo.Put(
                {
                    **dynamo.key(f"USER#{user_id}", "CREDIT"),
                    "entity": "CREDIT",
                    "initialCents": 30000,
                    "spentCents": 0,
                    "digitalCapCents": 10000,
                    "digitalSpentCents": 0,
                    "grantedAt": isoformat(now),
                    "expiresAt": isoformat(now.replace(year=now.year + 2)),
                }
            ),
        ]
    )
