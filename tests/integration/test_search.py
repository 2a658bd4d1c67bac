"""Search around a point: exactly the bookable offers within the radius, nearest first, read by geohash cells.

A world of random venues and offers (some inactive, sold out, past their limit, of an offerer not validated yet) is
written once, around Paris, across the antimeridian (Fiji's meridian) and on both poles; hypothesis then draws
searches and compares every answer with a brute-force filter of that world. The work of a search is bounded
(issue #9): at most MAX_CELLS Queries whatever the point and radius, at most MAX_SEARCH_CHUNKS BatchGetItem chunks a
page."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from infra.local.embedded_aws import provision
from infra.local.template import load_template
from pass_culture.accounts.models import Offerer, ValidationStatus, Venue
from pass_culture.accounts.repository import AccountsRepository
from pass_culture.clock import FixedClock
from pass_culture.dynamo import Table
from pass_culture.errors import BadRequest
from pass_culture.geo import (
    MAX_CELLS,
    AreaTooLarge,
    cell_box,
    covering_cells,
    destination,
    encode,
    haversine_km,
    max_servable_radius_km,
)
from pass_culture.offers.images import ImageUploads
from pass_culture.offers.models import Offer, Stock, VenueSnapshot
from pass_culture.offers.repository import OffersRepository, _geo_keys, _index_keys, offer_key, stock_key
from pass_culture.offers.service import (
    MAX_RADIUS_KM,
    MAX_SEARCH_CHUNKS,
    OffersService,
    SearchQuery,
    _search_chunk,
)
from tests.conftest import AWS_TEST_ENV, InProcessAws, count_round_trips

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PARIS = (48.8566, 2.3522)
ANTIMERIDIAN = (-17.0, 180.0)
DESERT = (10.0, 10.0)  # the page budget: 40 sold-out offers at 100 m, one bookable at 2 km
FAR_REGIONS = ("antimeridian", "north pole", "south pole")
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
    region: str = "paris"


def wrapped(lon: float) -> float:
    return (lon + 180.0) % 360.0 - 180.0


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
    truths: list[Truth] = []

    def venue_at(v: int, lat: float, lon: float, offerer: Offerer) -> Venue:
        return Venue(id=f"venue{v}", offerer_id=offerer.id, name=f"Lieu {v}", siret=None, comment="c", address="a",
                     postal_code="75000", city="Paris", latitude=lat, longitude=lon, booking_email="v@x.fr", created_at=NOW)  # fmt: skip

    bulk: list[dict[str, Any]] = []  # far regions: written at once (moto copies its tables on every transaction)

    def stock_in(offer_id: str, s: int, state: str) -> Stock:
        return Stock(
            id=f"{offer_id}.{s}", offer_id=offer_id, price_cents=500, created_at=NOW,
            quantity=None if state == "unlimited" else 3, booked_quantity=3 if state == "sold out" else 0,
            booking_limit_datetime=NOW - timedelta(days=1) if state == "past limit" else None,
        )  # fmt: skip

    def add_offer(venue: Venue, offer_id: str, name: str, subcategory: str, active: bool, states: list[str],
                  region: str) -> None:  # fmt: skip
        offerer = offerers[int(venue.offerer_id[-1])]
        offer = Offer(
            id=offer_id, venue_id=venue.id, offerer_id=offerer.id, name=name, subcategory_id=subcategory,
            is_active=active, venue=VenueSnapshot.model_validate(venue.to_api()),
            geohash=encode(venue.latitude, venue.longitude), created_at=NOW, updated_at=NOW,
        )  # fmt: skip
        stocks = [stock_in(offer.id, s, state) for s, state in enumerate(states)]
        if region == "paris":  # through the repository's own writes
            offers.create_offer(offer, user_id="owner")
            for stock in stocks:
                offers.add_stock(offer, stock, user_id="owner")
        else:  # the same items, as the repository writes them
            offer = offer.model_copy(update={"stock_ids": [stock.id for stock in stocks]})
            item = {**offer_key(offer.id), "entity": "OFFER", **_index_keys(offer), **offer.to_api()}
            bulk.append(item | (_geo_keys(offer) if active else {}))
            bulk.extend({**stock_key(stock.id), "entity": "STOCK", **stock.to_api()} for stock in stocks)
        bookable = (
            active
            and offerer.validation_status == ValidationStatus.VALIDATED
            and any(state in ("ok", "unlimited") for state in states)
        )
        truths.append(Truth(offer.id, venue.latitude, venue.longitude, subcategory, name, active, bookable, region))

    def add_venue(rng: random.Random, v: int, lat: float, lon: float, region: str) -> None:
        venue = venue_at(v, lat, lon, offerers[v % 3])
        for n in range(rng.randint(1, 4)):
            subcategory = rng.choice(SUBCATEGORIES)
            active = rng.random() > 0.15
            states = [rng.choice(["ok", "sold out", "past limit", "unlimited"]) for _ in range(rng.randint(0, 2))]
            name = f"{'Fête' if n % 2 else 'Livre'} {v}-{n}"
            add_offer(venue, f"offer{v}x{n}", name, subcategory, active, states, region)

    for v in range(30):
        add_venue(rng, v, PARIS[0] + rng.uniform(-1.1, 1.1), PARIS[1] + rng.uniform(-1.6, 1.6), "paris")
    far = random.Random(9)
    for v in range(30, 50):
        lat, lon = ANTIMERIDIAN[0] + far.uniform(-0.6, 0.6), wrapped(ANTIMERIDIAN[1] + far.uniform(-0.7, 0.7))
        add_venue(far, v, lat, lon, "antimeridian")
    for v in range(50, 64):
        add_venue(far, v, far.uniform(89.9, 90.0), far.uniform(-180.0, 180.0), "north pole")
    for v in range(64, 72):
        add_venue(far, v, far.uniform(-90.0, -89.95), far.uniform(-180.0, 180.0), "south pole")
    for v, (lat, lon) in enumerate(((89.95, 40.0), (89.951, 46.0), (89.945, 35.0)), start=74):
        add_offer(venue_at(v, lat, lon, offerers[0]), f"polar{v}", "Aurore", "CONCERT", True, ["ok"], "north pole")
    near = venue_at(72, DESERT[0], DESERT[1] + 0.001, offerers[0])
    for n in range(40):
        add_offer(near, f"desert{n:02}", "Épuisé", "CONCERT", True, ["sold out"], "desert")
    add_offer(venue_at(73, DESERT[0], DESERT[1] + 0.02, offerers[0]), "desert99", "Libre", "CONCERT", True, ["ok"],
              "desert")  # fmt: skip
    table.put_many(bulk)
    service = OffersService(offers, ImageUploads(None, "unused"), FixedClock(NOW))
    return service, truths


def search_all(
    service: OffersService, client: Any, query: SearchQuery, truths: list[Truth]
) -> tuple[list[dict[str, Any]], list[Truth], int, int]:
    """Every page of a search, checked against the brute-force truth: (items, candidates, BatchGetItems, pages)."""
    name_part = {None: "", "fete": "Fête", "LIVRE": "Livre", "zzz": "∅"}[query.q]  # case- and accent-insensitive
    candidates = [
        t
        for t in truths
        if t.active
        and haversine_km(query.lat, query.lon, t.lat, t.lon) <= query.radius_km
        and (query.subcategory_id is None or t.subcategory_id == query.subcategory_id)
        and name_part in t.name
    ]
    expected = sorted(
        (round(haversine_km(query.lat, query.lon, t.lat, t.lon), 6), t.offer_id) for t in candidates if t.bookable
    )
    counter = count_round_trips(client)
    cells = len(covering_cells(query.lat, query.lon, query.radius_km))
    assert cells <= MAX_CELLS
    found: list[dict[str, Any]] = []
    cursor = None
    batch_gets = pages = 0
    for _page in range(200):
        counter.reset()
        answer = service.search(replace(query, cursor=cursor))
        pages += 1
        assert counter.calls.count("Query") == cells  # one Query per covering cell (results < 1 MB here)
        assert counter.calls.count("BatchGetItem") <= MAX_SEARCH_CHUNKS
        batch_gets += counter.calls.count("BatchGetItem")
        assert len(answer["items"]) <= query.limit
        found += answer["items"]
        cursor = answer["nextCursor"]
        if cursor is None:
            break
    assert [item["id"] for item in found] == [offer_id for _, offer_id in expected]
    distances = [item["distanceKm"] for item in found]
    assert distances == sorted(distances)
    assert all(item["stocks"] and all(s["isBookable"] for s in item["stocks"]) for item in found)
    return found, candidates, batch_gets, pages


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
    query = SearchQuery(lat, lon, radius, subcategory, q, limit)
    _, candidates, batch_gets, pages = search_all(service, client, query, truths)
    assert batch_gets <= -(-len(candidates) // limit) + pages  # stocks and offerers: one read per chunk of a page


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    region=st.sampled_from(FAR_REGIONS),
    anchor=st.integers(0, 1000),
    offset=st.floats(0.0, 0.8),
    bearing=st.floats(0.0, 360.0),
    radius_fraction=st.floats(0.01, 1.25),
    subcategory=st.sampled_from([None, *SUBCATEGORIES]),
    limit=st.integers(1, 5),
)
def test_searches_across_the_antimeridian_and_near_the_poles_are_exact_or_refused_within_the_budget(
    world: tuple[tuple[OffersService, list[Truth]], Any],
    region: str,
    anchor: int,
    offset: float,
    bearing: float,
    radius_fraction: float,
    subcategory: str | None,
    limit: int,
) -> None:
    """Around a venue of the region, up to (and past) the largest radius served there: brute force or a 400."""
    (service, truths), client = world
    venues = [t for t in truths if t.region == region and t.bookable]  # something to find, often
    near = venues[anchor % len(venues)]
    scale = max_servable_radius_km(near.lat, near.lon, MAX_RADIUS_KM)
    lat, lon = destination(near.lat, near.lon, scale * offset, bearing)
    radius = max(scale * radius_fraction, 0.001)
    query = SearchQuery(lat, lon, radius, subcategory, None, limit)
    try:
        served = radius <= MAX_RADIUS_KM and bool(covering_cells(lat, lon, radius))
    except AreaTooLarge:
        served = False
    if served:
        found, _, _, _ = search_all(service, client, query, truths)
        event(f"{region}: served, {'some' if found else 'no'} offers")
        return
    event(f"{region}: refused")
    counter = count_round_trips(client)
    with pytest.raises(BadRequest) as refused:
        service.search(query)
    assert counter.count == 0  # refused before any read
    assert refused.value.details[0]["field"] in ("radiusKm", "lat")


def test_a_search_across_the_antimeridian_finds_the_offers_on_the_other_side(
    world: tuple[tuple[OffersService, list[Truth]], Any],
) -> None:
    (service, truths), client = world
    for lat, lon in ((-17.0, 179.95), (-17.0, -179.95), (-16.8, 180.0)):
        cells = covering_cells(lat, lon, 50.0)
        assert any(cell_box(c).min_lon < -179 for c in cells) and any(cell_box(c).max_lon > 179 for c in cells)
        found, _, _, _ = search_all(service, client, SearchQuery(lat, lon, 50.0, limit=100), truths)
        sides = {item["venue"]["longitude"] > 0 for item in found}
        assert sides == {True, False}, (lat, lon)  # offers on both sides of ±180, within 50 km


def test_a_polar_search_is_served_within_the_cap_up_to_the_radius_it_allows(
    world: tuple[tuple[OffersService, list[Truth]], Any],
) -> None:
    (service, truths), client = world
    lat, lon = 89.95, 40.0
    radius = max_servable_radius_km(lat, lon, MAX_RADIUS_KM)
    assert 1 < radius < MAX_RADIUS_KM
    counter = count_round_trips(client)
    cells = covering_cells(lat, lon, radius)
    service.search(SearchQuery(lat, lon, radius, limit=100))
    assert counter.calls.count("Query") == len(cells) <= MAX_CELLS
    found, _, _, _ = search_all(service, client, SearchQuery(lat, lon, radius, limit=100), truths)
    assert {"polar74", "polar75", "polar76"} <= {item["id"] for item in found}


def test_the_polar_search_of_issue_9_is_a_400_naming_the_radius_it_could_have(
    world: tuple[tuple[OffersService, list[Truth]], Any],
) -> None:
    (service, _), client = world
    counter = count_round_trips(client)
    with pytest.raises(BadRequest) as refused:
        service.search(SearchQuery(89.9, 0.0, 100.0))  # 6 144 Queries and a 504 before issue #9
    body = refused.value.to_body()
    assert body["code"] == "RADIUS_TOO_LARGE" and "3.3" in body["message"]
    assert body["details"][0]["field"] == "radiusKm" and 3 < body["details"][0]["maxRadiusKm"] < 4
    with pytest.raises(BadRequest) as on_the_pole:
        service.search(SearchQuery(90.0, 0.0, 0.5))
    assert on_the_pole.value.code == "RADIUS_TOO_LARGE" and on_the_pole.value.details[0]["field"] == "lat"
    assert counter.count == 0


@pytest.mark.parametrize(
    ("lat", "lon", "radius", "field", "message"),
    [
        (48.8, 2.3, 0.0, "radiusKm", "radiusKm must be > 0."),
        (48.8, 2.3, -1.0, "radiusKm", "radiusKm must be > 0."),
        (48.8, 2.3, float("nan"), "radiusKm", "radiusKm must be > 0."),
        (48.8, 2.3, 100.01, "radiusKm", "radiusKm must be <= 100."),
        (90.01, 2.3, 1.0, "lat", "lat must be in [-90, 90]."),
        (48.8, -180.5, 1.0, "lon", "lon must be in [-180, 180]."),
    ],
)
def test_a_search_outside_the_contract_is_a_400_naming_the_field(
    world: tuple[tuple[OffersService, list[Truth]], Any], lat: float, lon: float, radius: float, field: str,
    message: str,
) -> None:  # fmt: skip
    (service, _), _ = world
    with pytest.raises(BadRequest) as refused:
        service.search(SearchQuery(lat, lon, radius))
    assert refused.value.to_body() == {"code": "BAD_REQUEST", "message": message, "details": [refused.value.details[0]]}
    assert refused.value.details[0]["field"] == field


def test_the_largest_radius_is_served_and_a_tiny_one_too(
    world: tuple[tuple[OffersService, list[Truth]], Any],
) -> None:
    (service, truths), client = world
    search_all(service, client, SearchQuery(*PARIS, MAX_RADIUS_KM, limit=100), truths)
    venue = next(t for t in truths if t.region == "paris" and t.bookable)
    found, _, _, _ = search_all(service, client, SearchQuery(venue.lat, venue.lon, 1e-6, limit=100), truths)
    assert venue.offer_id in [item["id"] for item in found]


def test_a_page_reads_at_most_its_chunk_budget_then_hands_a_cursor(
    world: tuple[tuple[OffersService, list[Truth]], Any],
) -> None:
    """40 sold-out offers nearer than the one bookable: pages of no item, each within the budget, a cursor each."""
    (service, _), client = world
    counter = count_round_trips(client)
    found: list[str] = []
    cursor = None
    pages = []
    for _page in range(50):
        counter.reset()
        answer = service.search(SearchQuery(*DESERT, 5.0, limit=2, cursor=cursor))
        pages.append((len(answer["items"]), counter.calls.count("BatchGetItem")))
        found += [item["id"] for item in answer["items"]]
        cursor = answer["nextCursor"]
        if cursor is None:
            break
    assert found == ["desert99"]
    assert all(batch_gets <= MAX_SEARCH_CHUNKS for _, batch_gets in pages)
    # 40 candidates, 2 a chunk, MAX_SEARCH_CHUNKS chunks a page: the empty pages each spent the whole budget.
    empty = 40 // (2 * MAX_SEARCH_CHUNKS)
    assert pages[:empty] == [(0, MAX_SEARCH_CHUNKS)] * empty
    assert pages[empty][0] == 1 and len(pages) == empty + 1


def test_a_chunk_holds_one_batch_get_of_keys_unless_one_offer_alone_needs_more() -> None:
    def candidate(n: int, stocks: int, offerer: str = "o1") -> tuple[float, str, Offer]:
        venue = VenueSnapshot(id="v", name="v", address="a", postal_code="75000", city="Paris", latitude=0, longitude=0,
                               booking_email="v@x.fr")  # fmt: skip
        offer = Offer(
            id=f"o{n}", venue_id="v", offerer_id=offerer, name="x", subcategory_id="CONCERT", is_active=True,
            venue=venue, geohash=encode(0, 0), created_at=NOW, updated_at=NOW,
            stock_ids=[f"o{n}.{s}" for s in range(stocks)],
        )  # fmt: skip
        return (float(n), offer.id, offer)

    small = [candidate(n, 2) for n in range(60)]
    assert len(_search_chunk(small, 0, 20)) == 20  # 20 offers: 40 stocks + 1 offerer
    assert len(_search_chunk(small, 50, 20)) == 10  # the end of the list
    assert len(_search_chunk(small, 0, 100)) == 49  # 98 stocks + 1 offerer; a 50th would need 101 keys
    big = [candidate(0, 60), candidate(1, 60), candidate(2, 150)]
    assert [c[1] for c in _search_chunk(big, 0, 10)] == ["o0"]
    assert [c[1] for c in _search_chunk(big, 2, 10)] == ["o2"]  # alone, even past 100 keys: progress is certain
