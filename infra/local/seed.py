"""Seed data for the local stack: the two kinds of venue the source documents describe (a bookshop with its SIRET,
a local authority's media library without one, reimbursed through a pricing point), a few offers, an admin and one
18-year-old beneficiary. Accounts go through their use cases, as the API would; offers are written directly until
their use cases exist (issue #4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from stdnum import ean, luhn

from infra.local.stack import LocalStack
from pass_culture import dynamo
from pass_culture.accounts.api_keys import ApiKeyRepository
from pass_culture.accounts.identity import CognitoIdentityProvider
from pass_culture.accounts.models import CreateBeneficiaryInput, CreateOffererInput, CreateVenueInput, Venue
from pass_culture.accounts.repository import AccountsRepository
from pass_culture.accounts.service import AccountsService
from pass_culture.clock import SystemClock, isoformat
from pass_culture.http import Caller
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
    identity = CognitoIdentityProvider(stack.aws.client("cognito-idp"), str(stack.provisioned.ref("UserPool")))
    accounts = AccountsService(AccountsRepository(table), ApiKeyRepository(table), identity, SystemClock())
    now = datetime.now(UTC)
    admin = Login("admin", "admin@passculture.local", PASSWORD, "pass Culture staff")
    bookseller = Login("pro", "libraire@librairie-marais.example", PASSWORD, "bookshop, venue with a SIRET")
    librarian = Login(
        "pro", "mediatheque@saint-ouen-sur-loire.example", PASSWORD, "local authority, library without SIRET"
    )
    young = Login("beneficiary", "jeune@passculture.local", PASSWORD, "18 years old, 300 € credit")
    names = {admin: ("Camille", "Admin"), bookseller: ("Louise", "Libraire"), librarian: ("Marc", "Bibliothécaire")}
    callers = {}
    for login, (first, last) in {**names, young: ("Jeanne", "Jeune")}.items():
        user_id = stack.create_user(login.email, login.password, login.group, first, last, "+33600000000")
        callers[login] = Caller(user_id=user_id, email=login.email, groups=frozenset({login.group}))

    bookshop = accounts.create_offerer(
        callers[bookseller], CreateOffererInput(siren=siren("41234567"), name="Librairie du Marais")
    )
    accounts.validate_offerer(callers[admin], bookshop.id)
    bookshop_venue = accounts.create_venue(
        callers[bookseller],
        bookshop.id,
        CreateVenueInput(
            name="Librairie du Marais",
            siret=siret(bookshop.siren, "0001"),
            address="12 rue des Archives",
            postal_code="75003",
            city="Paris",
            latitude=48.8590,
            longitude=2.3560,
            booking_email="contact@librairie-marais.example",
        ),
    )
    authority = accounts.create_offerer(
        callers[librarian], CreateOffererInput(siren=siren("21450123"), name="Commune de Saint-Ouen-sur-Loire")
    )
    accounts.validate_offerer(callers[admin], authority.id)
    pricing_point = accounts.create_venue(
        callers[librarian],
        authority.id,
        CreateVenueInput(
            name="Direction de la culture",
            siret=siret(authority.siren, "0001"),
            address="1 place de la Mairie",
            postal_code="45000",
            city="Orléans",
            latitude=47.9029,
            longitude=1.9093,
            booking_email="culture@saint-ouen-sur-loire.example",
        ),
    )
    library = accounts.create_venue(
        callers[librarian],
        authority.id,
        CreateVenueInput(
            name="Médiathèque Jacques-Prévert",
            comment="Médiathèque municipale rattachée à la commune (SIRET de la collectivité).",
            pricing_point_venue_id=pricing_point.id,
            address="5 allée des Lecteurs",
            postal_code="45000",
            city="Orléans",
            latitude=47.9050,
            longitude=1.9120,
            booking_email="mediatheque@saint-ouen-sur-loire.example",
        ),
    )
    _offer(table, now, bookshop_venue, "LIVRE_PAPIER", "L'Étranger", price_cents=890, quantity=3,
           ean_=isbn13("978207036002"), description="Le coup de cœur de la librairie.")  # fmt: skip
    _offer(table, now, bookshop_venue, "LIVRE_PAPIER", "Les Misérables (tome 1)", price_cents=1290, quantity=5,
           ean_=isbn13("978225300609"))  # fmt: skip
    _offer(table, now, library, "ABO_BIBLIOTHEQUE", "Carte d'abonnement à la médiathèque", price_cents=0, quantity=None)
    _offer(table, now, library, "RENCONTRE", "Club de lecture : les classiques", price_cents=0, quantity=20,
           beginning=now + timedelta(days=10), is_duo=True)  # fmt: skip
    today = now.date()
    accounts.register_beneficiary(
        callers[admin],
        CreateBeneficiaryInput(
            email=young.email,
            first_name="Jeanne",
            last_name="Jeune",
            birth_date=date(today.year - 18, today.month, 1) - timedelta(days=62),
            phone="06 00 00 00 00",
            postal_code="75011",
        ),
    )
    return [admin, bookseller, librarian, young]


def _offer(
    table: dynamo.Table,
    now: datetime,
    venue: Venue,
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
                    "venueId": venue.id,
                    "offererId": venue.offerer_id,
                    "GSI1PK": f"VENUE#{venue.id}",
                    "GSI1SK": f"OFFER#{created}#{offer_id}",
                    "name": name,
                    "subcategoryId": subcategory_id,
                    "ean": ean_,
                    "description": description,
                    "isDuo": is_duo,
                    "isActive": True,
                    "createdAt": created,
                    "venue": {
                        k: venue.to_api()[k] for k in ("name", "address", "postalCode", "city", "latitude", "longitude")
                    },
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
