"""Races on collective bookings, with real concurrent threads through the embedded AWS (moto's server behind one
lock, as the local stack runs it; moto in-process is not safe under threads): the conditions in the transactions
decide, never a read made before."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from pass_culture import dynamo
from pass_culture.access import Caller
from pass_culture.accounts.repository import membership_key, offerer_key, venue_key
from pass_culture.clock import FixedClock
from pass_culture.collective.models import (
    CollectiveStockInput,
    CreateCollectiveOfferInput,
    Institution,
    InstitutionMember,
    PreBookInput,
)
from pass_culture.collective.repository import CollectiveRepository, budget_key
from pass_culture.collective.rules import InstitutionRole, school_year_of
from pass_culture.collective.service import CollectiveService
from pass_culture.errors import DomainError

NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW + timedelta(days=40)
PRO = Caller(user_id="race-pro", email=None, groups=frozenset({"pro"}))


class NoIdentity:
    def ensure_user(self, *_: Any) -> str:
        raise AssertionError("members are written directly here")


@pytest.fixture(scope="module")
def table() -> Iterator[dynamo.Table]:
    from botocore.config import Config

    from infra.local.embedded_aws import EmbeddedAws, provision
    from infra.local.template import load_template

    embedded = EmbeddedAws()
    embedded.start()
    try:
        provisioned = provision(embedded, load_template())
        client = boto3.client(
            "dynamodb", endpoint_url=embedded.endpoint, region_name="eu-west-3", aws_access_key_id="testing",
            aws_secret_access_key="testing", config=Config(max_pool_connections=50),
        )  # fmt: skip
        yield dynamo.Table(client, provisioned.ref("Table"))
    finally:
        embedded.stop()


def scene(table: dynamo.Table, budget_cents: int | None) -> tuple[CollectiveService, CollectiveRepository, str]:
    """A validated offerer with a venue and its pro, an institution with a budget for the events' school year."""
    repository = CollectiveRepository(table)
    offerer_id, venue_id, uai = uuid.uuid4().hex, uuid.uuid4().hex, f"{uuid.uuid4().int % 10**7:07d}R"
    table.put({**offerer_key(offerer_id), "id": offerer_id, "validationStatus": "VALIDATED"})
    table.put({**venue_key(venue_id), "id": venue_id, "offererId": offerer_id, "name": "Médiathèque",
               "postalCode": "93400", "bookingEmail": "mediatheque@ville.example"})  # fmt: skip
    table.put({**membership_key("race-pro", offerer_id), "offererId": offerer_id, "userId": "race-pro"})
    repository.put_institutions([Institution(uai=uai, name="Collège", type="COLLEGE", city="Saint-Ouen",
                                             postal_code="93400", departement="93")])  # fmt: skip
    if budget_cents is not None:
        repository.set_budget(uai, school_year_of(START), budget_cents, NOW)
    service = CollectiveService(repository, NoIdentity(), FixedClock(NOW))
    service.venue_id = venue_id  # type: ignore[attr-defined]
    return service, repository, uai


def member(repository: CollectiveRepository, uai: str, role: InstitutionRole) -> Caller:
    user_id = uuid.uuid4().hex
    repository.put_member(InstitutionMember(user_id=user_id, email=f"{user_id}@ac.fr", uai=uai, role=role), NOW)
    return Caller(user_id=user_id, email=None, groups=frozenset({role.value}))


def an_offer(service: CollectiveService, price: int) -> str:
    body = {"venueId": service.venue_id, "subcategoryId": "VISITE", "name": "Visite",  # type: ignore[attr-defined]
            "students": ["COLLEGE_5E"], "domains": ["PATRIMOINE"], "contactEmail": "education@ville.example"}  # fmt: skip
    offer = service.create_offer(PRO, CreateCollectiveOfferInput.model_validate(body, strict=False))
    stock = service.put_stock(PRO, offer["id"], CollectiveStockInput(
        start_datetime=START, booking_limit_datetime=START - timedelta(days=5), number_of_students=30,
        total_price_cents=price,
    ))  # fmt: skip
    return str(stock["id"])


def outcome(call: Any) -> str:
    try:
        return str(call()["status"])
    except DomainError as refused:
        return f"{refused.status} {refused.code}"


def test_twenty_teachers_pre_booking_one_collective_stock_at_once_make_exactly_one_booking(table: dynamo.Table) -> None:
    service, repository, uai = scene(table, budget_cents=None)
    stock_id = an_offer(service, 25_000)
    teachers = [member(repository, uai, InstitutionRole.TEACHER) for _ in range(20)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda t: outcome(lambda: service.pre_book(t, PreBookInput(collective_stock_id=stock_id))),
                                teachers))  # fmt: skip
    assert answers.count("PENDING") == 1, answers
    assert answers.count("409 ALREADY_BOOKED") == 19, answers
    stock = repository.stock(stock_id.removesuffix("-stock"))
    assert stock is not None and stock.booking_id is not None
    listed, _ = repository.institution_bookings(uai, 100, None)
    assert [b.id for b in listed] == [stock.booking_id]


def test_thirty_confirmations_against_a_budget_for_ten_confirm_exactly_ten(table: dynamo.Table) -> None:
    price = 12_000
    service, repository, uai = scene(table, budget_cents=10 * price + price - 1)  # covers 10, not 11
    teacher = member(repository, uai, InstitutionRole.TEACHER)
    heads = [member(repository, uai, InstitutionRole.INSTITUTION_HEAD) for _ in range(30)]
    bookings = [service.pre_book(teacher, PreBookInput(collective_stock_id=an_offer(service, price)))["id"]
                for _ in range(30)]  # fmt: skip
    with ThreadPoolExecutor(max_workers=30) as pool:
        answers = list(
            pool.map(lambda pair: outcome(lambda: service.confirm(pair[0], pair[1])), zip(heads, bookings, strict=True))
        )
    assert answers.count("CONFIRMED") == 10, answers
    assert answers.count("409 BUDGET_TOO_LOW") == 20, answers
    budget = table.get(budget_key(uai, school_year_of(START)), consistent=True) or {}
    assert budget["spentCents"] == 10 * price <= budget["amountCents"]
    statuses = [b.status.value for b in repository.institution_bookings(uai, 100, None)[0]]
    assert statuses.count("CONFIRMED") == 10 and statuses.count("PENDING") == 20


def test_the_same_booking_confirmed_by_ten_heads_at_once_is_debited_once(table: dynamo.Table) -> None:
    price = 5_000
    service, repository, uai = scene(table, budget_cents=100_000)
    teacher = member(repository, uai, InstitutionRole.TEACHER)
    booking_id = service.pre_book(teacher, PreBookInput(collective_stock_id=an_offer(service, price)))["id"]
    heads = [member(repository, uai, InstitutionRole.INSTITUTION_HEAD) for _ in range(10)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda head: outcome(lambda: service.confirm(head, booking_id)), heads))
    assert answers.count("CONFIRMED") == 1, answers
    assert answers.count("409 ALREADY_CONFIRMED") == 9, answers
    budget = table.get(budget_key(uai, school_year_of(START)), consistent=True) or {}
    assert budget["spentCents"] == price
