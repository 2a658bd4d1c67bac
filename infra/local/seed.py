"""Seed data for the local stack: the two kinds of venue the source documents describe (a bookshop with its SIRET,
a local authority's media library without one, reimbursed through a pricing point), a few offers, an admin and one
18-year-old beneficiary. Everything goes through the use cases, as the API would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from stdnum import luhn

from infra.local.stack import LocalStack
from pass_culture import dynamo
from pass_culture.access import Caller
from pass_culture.accounts.api_keys import ApiKeyRepository
from pass_culture.accounts.identity import CognitoIdentityProvider
from pass_culture.accounts.models import CreateBeneficiaryInput, CreateOffererInput, CreateVenueInput
from pass_culture.accounts.repository import AccountsRepository
from pass_culture.accounts.service import AccountsService
from pass_culture.clock import SystemClock
from pass_culture.offers.images import ImageUploads
from pass_culture.offers.models import CreateOfferInput, CreateStockInput
from pass_culture.offers.repository import OffersRepository
from pass_culture.offers.service import OffersService

PASSWORD = "Culture-Locale-2026"
SAMPLE_CATALOGUE = Path(__file__).with_name("catalogue-sample.csv")


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


@dataclass(frozen=True)
class Seeded:
    logins: list[Login]
    bookshop_venue_id: str
    bookshop_siret: str


def seed(stack: LocalStack) -> Seeded:
    assert stack.provisioned is not None
    table = dynamo.Table(stack.aws.client("dynamodb"), str(stack.provisioned.ref("Table")))
    identity = CognitoIdentityProvider(stack.aws.client("cognito-idp"), str(stack.provisioned.ref("UserPool")))
    clock = SystemClock()
    accounts = AccountsService(AccountsRepository(table), ApiKeyRepository(table), identity, clock)
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
    offers = OffersService(OffersRepository(table), ImageUploads(stack.aws.client("s3"), stack.files_bucket), clock)
    offers.load_catalogue(callers[admin], SAMPLE_CATALOGUE.read_text(encoding="utf-8"))
    as_bookseller, as_librarian = callers[bookseller], callers[librarian]
    for ean, price, quantity, description in (
        ("9782070360024", 890, 3, "Le coup de cœur de la librairie."),
        ("9782253096344", 1290, 5, ""),
        ("9782070612758", 750, None, "À lire et relire."),
    ):
        offer = offers.create_offer(
            as_bookseller,
            CreateOfferInput(
                venue_id=bookshop_venue.id, subcategory_id="LIVRE_PAPIER", ean=ean, description=description
            ),
        )
        offers.add_stock(as_bookseller, offer["id"], CreateStockInput(price_cents=price, quantity=quantity))
    card = offers.create_offer(
        as_librarian,
        CreateOfferInput(
            venue_id=library.id, subcategory_id="ABO_BIBLIOTHEQUE", name="Carte d'abonnement à la médiathèque"
        ),
    )
    offers.add_stock(as_librarian, card["id"], CreateStockInput(price_cents=0))
    club = offers.create_offer(
        as_librarian,
        CreateOfferInput(
            venue_id=library.id, subcategory_id="RENCONTRE", name="Club de lecture : les classiques", is_duo=True
        ),
    )
    for days in (10, 24):
        offers.add_stock(
            as_librarian,
            club["id"],
            CreateStockInput(price_cents=0, quantity=20, beginning_datetime=now + timedelta(days=days)),
        )
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
    assert bookshop_venue.siret is not None
    return Seeded([admin, bookseller, librarian, young], bookshop_venue.id, bookshop_venue.siret)


def fake_stock_software(stack: LocalStack, seeded: Seeded) -> Any:
    """The bookshop's stock software, faked on loopback (infra/local/fake_provider.py): a generated feed of 300
    lines for its SIRET, whose books are loaded into the catalogue. Returns the running FakeProvider."""
    from infra.local.fake_provider import FakeProvider, generate_feed

    assert stack.provisioned is not None
    feed = generate_feed(seed=2026, size=300)
    table = dynamo.Table(stack.aws.client("dynamodb"), str(stack.provisioned.ref("Table")))
    offers = OffersService(
        OffersRepository(table), ImageUploads(stack.aws.client("s3"), stack.files_bucket), SystemClock()
    )
    admin = Caller(user_id="seed", email=None, groups=frozenset({"admin"}))
    offers.load_catalogue(admin, feed.catalogue_csv())
    provider = FakeProvider()
    provider.start()
    provider.add_venue(seeded.bookshop_siret, feed.lines)
    return provider
