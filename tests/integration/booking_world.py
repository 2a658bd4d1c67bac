"""A validated offerer with a venue, offers made to order and young people registered on demand, for the booking
and counter tests (their real handlers, moto in-process behind)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from stdnum import luhn

from pass_culture import aws, dynamo
from pass_culture.access import Caller
from pass_culture.accounts.api_keys import ApiKeyRepository
from pass_culture.accounts.identity import CognitoIdentityProvider
from pass_culture.accounts.models import BankAccountInput, CreateBeneficiaryInput, CreateOffererInput, CreateVenueInput
from pass_culture.accounts.repository import AccountsRepository, credit_key, venue_key
from pass_culture.accounts.service import AccountsService
from pass_culture.bookings.repository import BookingsRepository
from pass_culture.clock import SystemClock
from pass_culture.counter.repository import CounterRepository
from pass_culture.offers.images import ImageUploads
from pass_culture.offers.models import CreateOfferInput, CreateStockInput
from pass_culture.offers.repository import OffersRepository, stock_key
from pass_culture.offers.service import OffersService
from pass_culture.payouts.batch import files_prefix, payout_item
from pass_culture.payouts.models import BankSnapshot, PointResult
from pass_culture.payouts.repository import PayoutsRepository
from pass_culture.payouts.rules import Period
from pass_culture.settings import get_settings
from tests.events import claims_of
from tests.integration.conftest import Answer, call_api

ADMIN = Caller(user_id="admin", email="admin@x.fr", groups=frozenset({"admin"}))
PRO = Caller(user_id="pro", email="pro@x.fr", groups=frozenset({"pro"}))
IBAN, BIC = "FR7630006000011234567890189", "AGRIFRPP"


def luhn_complete(body: str) -> str:
    return body + luhn.calc_check_digit(body)


@dataclass
class World:
    module: Any
    call: Callable[..., Answer]
    table: dynamo.Table
    accounts: AccountsService
    offers: OffersService
    venue_id: str
    offerer_id: str

    def offer(
        self, subcategory: str, price: int, quantity: int | None = 10, days: int | None = None, **fields: Any
    ) -> str:
        name = fields.pop("name", subcategory.title())
        offer = self.offers.create_offer(
            PRO, CreateOfferInput(venue_id=self.venue_id, subcategory_id=subcategory, name=name, **fields)
        )
        beginning = datetime.now(UTC) + timedelta(days=days) if days is not None else None
        stock = self.offers.add_stock(
            PRO, offer["id"], CreateStockInput(price_cents=price, quantity=quantity, beginning_datetime=beginning)
        )
        return str(stock["id"])

    def young(self, age: int = 18) -> dict[str, str]:
        birth = date(date.today().year - age, 1, 1)  # `age` years old since the 1st of January
        created = self.accounts.register_beneficiary(
            ADMIN,
            CreateBeneficiaryInput(
                email=f"young-{random.randrange(10**9)}@example.org",
                first_name="Jeanne", last_name="Jeune", birth_date=birth, phone="0612345678", postal_code="75011",
            ),
        )  # fmt: skip
        return claims_of("beneficiary", created["id"])

    def book(self, claims: dict[str, str], stock_id: str, quantity: int = 1) -> Answer:
        return self.call("POST", "/bookings", body={"stockId": stock_id, "quantity": quantity}, claims=claims)

    def cancel(self, claims: dict[str, str], booking_id: str) -> Answer:
        return self.call(
            "POST",
            f"/bookings/{booking_id}/cancel",
            resource="/bookings/{bookingId}/cancel",
            params={"bookingId": booking_id},
            claims=claims,
        )

    def credit(self, claims: dict[str, str]) -> dict[str, Any]:
        return self.table.get(credit_key(claims["sub"])) or {}

    def stock(self, stock_id: str) -> dict[str, Any]:
        return self.table.get(stock_key(stock_id)) or {}

    # -- what the other functions' routes name (tests/integration/test_faults.py calls every route) -----------------
    def pending_offerer(self) -> str:
        """Another offerer of PRO's, waiting for the admin's validation."""
        siren = luhn_complete(str(random.randrange(10**7, 10**8)))
        return self.accounts.create_offerer(PRO, CreateOffererInput(siren=siren, name="Librairie bis")).id

    def venue_siret(self) -> str:
        venue = self.table.get(venue_key(self.venue_id))
        assert venue is not None
        return str(venue["siret"])

    def api_key(self) -> dict[str, str]:
        """A new API key of the offerer, as the API-key authorizer hands it to the functions (its context)."""
        created = self.accounts.create_api_key(PRO, self.offerer_id)
        return {"offererId": self.offerer_id, "apiKeyId": created.id}

    def bank_details(self) -> None:
        """The offerer's bank details, PENDING until the admin accepts them."""
        self.accounts.put_bank_account(PRO, self.offerer_id, BankAccountInput(iban=IBAN, bic=BIC, label="Compte"))

    def booking(self, young: dict[str, str], price: int = 1200) -> dict[str, Any]:
        """`young`'s CONFIRMED booking of a new offer of the venue: the answer to POST /bookings."""
        answer = self.book(young, self.offer("LIVRE_PAPIER", price, quantity=5))
        assert answer.status == 201, answer.body
        return dict(answer.body)

    def use(self, booking_id: str) -> None:
        """Validated at the counter (USED), as a pro of the offerer does it."""
        found = BookingsRepository(self.table).get(booking_id)
        assert found is not None
        CounterRepository(self.table).use(found, "PRO:pro", datetime.now(UTC))

    def payout(self) -> str:
        """A payout of the offerer for the first half of November 2026 (nothing in it), as the payouts batch stores
        it; its id."""
        period = Period(date(2026, 11, 1), date(2026, 11, 16))
        point = PointResult(
            point_id=self.venue_id, offerer_id=self.offerer_id, offerer_name="Librairie", siren="", siret="",
            booking_email="resa@librairie.example", bank=BankSnapshot(IBAN, BIC, "Compte", "ACCEPTED"),
            lines_count=0, amount_cents=0, reimbursed_cents=0, waiting_for_account=0, waiting_for_account_cents=0,
            waiting_for_event=0,
        )  # fmt: skip
        files = {"statement": f"{files_prefix(period)}/statement.pdf", "csv": f"{files_prefix(period)}/lines.csv"}
        item = payout_item(period, period.ends_at, [point], {self.offerer_id: files})
        PayoutsRepository(self.table).put_payout(self.offerer_id, period.start, item)
        return str(item["id"])


@pytest.fixture
def world(deployed: Any) -> World:
    module = deployed("BookingsApiFunction")
    settings = get_settings()
    table = dynamo.Table(aws.dynamodb(), settings.table_name)
    accounts = AccountsService(
        AccountsRepository(table), ApiKeyRepository(table),
        CognitoIdentityProvider(aws.client("cognito-idp"), settings.user_pool_id), SystemClock(),
    )  # fmt: skip
    offers = OffersService(
        OffersRepository(table), ImageUploads(aws.client("s3"), settings.files_bucket), SystemClock()
    )
    siren = luhn_complete(str(random.randrange(10**7, 10**8)))
    offerer = accounts.create_offerer(PRO, CreateOffererInput(siren=siren, name="Librairie"))
    accounts.validate_offerer(ADMIN, offerer.id)
    venue = accounts.create_venue(
        PRO, offerer.id,
        CreateVenueInput(name="Librairie", siret=luhn_complete(siren + "0001"), address="1 rue du Livre", postal_code="75003",
                         city="Paris", latitude=48.86, longitude=2.35, booking_email="resa@librairie.example"),
    )  # fmt: skip
    return World(module, call_api(module), table, accounts, offers, venue.id, offerer.id)
