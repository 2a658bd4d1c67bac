"""Search around a point: exactly the bookable offers within the radius, nearest first, read by geohash cells.

A world of random venues and offers (some inactive, sold out, past their limit, of an offerer not validated yet) is
written once; hypothesis then draws searches and compares every answer with a brute-force filter of that world."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from infra.local.embedded_aws import provision
from infra.local.template import load_template
from pass_culture.accounts.models import Offerer, ValidationStatus, Venue
from pass_culture.accounts.repository import AccountsRepository
from pass_culture.clock import FixedClock
from pass_culture.dynamo import Table
from pass_culture.geo import covering_cells, encode, haversine_km
from pass_culture.offers.images import ImageUploads
from pass_culture.offers.models import Offer, Stock, VenueSnapshot
from pass_culture.offers.repository import OffersRepository
from pass_culture.offers.service import OffersService, SearchQuery
from tests.conftest import AWS_TEST_ENV, InProcessAws, count_round_trips

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PARIS = (48.8566, 2.3522)
SUBCATEGORIES = ("LIVRE_PAPIER", "CONCERT", "ABO_BIBLIOTHEQUE")


@dataclass(frozen=True)
class Truth:
    offer_id: str
    lat: float
    lon: float
    subcategory_id: str
    name: str
    active: bool
    bookable: bool


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[tuple[OffersService, list[Truth]], Any]]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in AWS_TEST_ENV.items():
            patch.setenv(name, value)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        with mock_aws():
            provisioned = provision(InProcessAws(), load_template())
            client = boto3.client("dynamodb", region_name="eu-west-3")
            table = Table(client, provisioned.ref("Table"))
            yield build_world(table), client


def build_world(table: Table) -> tuple[OffersService, list[Truth]]:
    rng = random.Random(20261123)
    accounts, offers = AccountsRepository(table), OffersRepository(table)
    offerers = []
    for index, status in enumerate((ValidationStatus.VALIDATED, ValidationStatus.VALIDATED, ValidationStatus.NEW)):
        offerer = Offerer(
            id=f"offerer{index}", siren=f"00000000{index}", name="o", validation_status=status, created_at=NOW
        )
        accounts.create_offerer(offerer, owner_user_id="owner")
        offerers.append(offerer)
    truths = []
    for v in range(30):
        lat, lon = PARIS[0] + rng.uniform(-1.1, 1.1), PARIS[1] + rng.uniform(-1.6, 1.6)
        offerer = offerers[v % 3]
        venue = Venue(id=f"venue{v}", offerer_id=offerer.id, name=f"Lieu {v}", siret=None, comment="c", address="a",
                      postal_code="75000", city="Paris", latitude=lat, longitude=lon, booking_email="v@x.fr", created_at=NOW)  # fmt: skip
        for n in range(rng.randint(1, 4)):
            subcategory = rng.choice(SUBCATEGORIES)
            active = rng.random() > 0.15
            offer = Offer(
                id=f"offer{v}x{n}", venue_id=venue.id, offerer_id=offerer.id, name=f"{'Fête' if n % 2 else 'Livre'} {v}-{n}",
                subcategory_id=subcategory, is_active=active, venue=VenueSnapshot.model_validate(venue.to_api()),
                geohash=encode(lat, lon), created_at=NOW, updated_at=NOW,
            )  # fmt: skip
            offers.create_offer(offer, user_id="owner")
            states = [rng.choice(["ok", "sold out", "past limit", "unlimited"]) for _ in range(rng.randint(0, 2))]
            for s, state in enumerate(states):
                stock = Stock(
                    id=f"{offer.id}.{s}", offer_id=offer.id, price_cents=500, created_at=NOW,
                    quantity=None if state == "unlimited" else 3, booked_quantity=3 if state == "sold out" else 0,
                    booking_limit_datetime=NOW - timedelta(days=1) if state == "past limit" else None,
                )  # fmt: skip
                offers.add_stock(offer, stock, user_id="owner")
            bookable = (
                active
                and offerer.validation_status == ValidationStatus.VALIDATED
                and any(state in ("ok", "unlimited") for state in states)
            )
            truths.append(Truth(offer.id, lat, lon, subcategory, offer.name, active, bookable))
    service = OffersService(offers, ImageUploads(None, "unused"), FixedClock(NOW))
    return service, truths


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lat=st.floats(PARIS[0] - 1.0, PARIS[0] + 1.0),
    lon=st.floats(PARIS[1] - 1.4, PARIS[1] + 1.4),
    radius=st.floats(1.0, 100.0),
    subcategory=st.sampled_from([None, *SUBCATEGORIES]),
    q=st.sampled_from([None, "fete", "LIVRE", "zzz"]),
    limit=st.integers(1, 7),
)
def test_search_returns_exactly_the_bookable_offers_in_the_circle_nearest_first(
    world: tuple[tuple[OffersService, list[Truth]], Any],
    lat: float,
    lon: float,
    radius: float,
    subcategory: str | None,
    q: str | None,
    limit: int,
) -> None:
    (service, truths), client = world
    name_part = {None: "", "fete": "Fête", "LIVRE": "Livre", "zzz": "∅"}[q]  # q is case- and accent-insensitive
    candidates = [
        t
        for t in truths
        if t.active
        and haversine_km(lat, lon, t.lat, t.lon) <= radius
        and (subcategory is None or t.subcategory_id == subcategory)
        and name_part in t.name
    ]
    expected = sorted((round(haversine_km(lat, lon, t.lat, t.lon), 6), t.offer_id) for t in candidates if t.bookable)
    counter = count_round_trips(client)
    cells = len(covering_cells(lat, lon, radius))
    found: list[dict[str, Any]] = []
    cursor = None
    batch_gets = pages = 0
    for _page in range(200):
        counter.reset()
        answer = service.search(SearchQuery(lat, lon, radius, subcategory, q, limit, cursor))
        pages += 1
        assert counter.calls.count("Query") == cells  # one Query per covering cell (results < 1 MB here)
        batch_gets += counter.calls.count("BatchGetItem")
        assert len(answer["items"]) <= limit
        found += answer["items"]
        cursor = answer["nextCursor"]
        if cursor is None:
            break
    assert [item["id"] for item in found] == [offer_id for _, offer_id in expected]
    assert batch_gets <= -(-len(candidates) // limit) + pages  # stocks and offerers: one read per chunk of a page
    distances = [item["distanceKm"] for item in found]
    assert distances == sorted(distances)
    assert all(item["stocks"] and all(s["isBookable"] for s in item["stocks"]) for item in found)
