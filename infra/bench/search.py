"""The work of one search around a point (issue #9): geohash cells and DynamoDB Queries per search, BEFORE (the
covering of the previous algorithm, kept below) and AFTER (pass_culture.geo), at latitudes 0, 45, 70 and 89.9 for
radii of 1, 10 and 100 km, in Paris and across the antimeridian. Queries are counted with a botocore event hook
against moto in-process, on the table of template.yaml, seeded with offers around each point (one bookable stock
each). BEFORE reads its cells as the previous search did (one Query each, 8 in parallel); AFTER is the search
itself (`OffersService.search`, limit 100). `found` is the offers within the radius each one returns; `truth` is
the brute force. Wall times are moto's in-process, not AWS's: compare them with each other only.

`python -m infra.bench.search` (PYTHONPATH with the repo root and layers/shared/python, as `make` sets it).
"""

from __future__ import annotations

import math
import os
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from infra.bench.report import summary_line

POINTS: list[tuple[str, float, float, tuple[float, ...]]] = [
    ("equator", 0.0, 0.0, (1.0, 10.0, 100.0)),
    ("lat 45", 45.0, 0.0, (1.0, 10.0, 100.0)),
    ("Paris", 48.8566, 2.3522, (1.0, 10.0, 100.0)),
    ("lat 70", 70.0, 0.0, (1.0, 10.0, 100.0)),
    ("lat 89.9", 89.9, 0.0, (1.0, 10.0, 100.0)),  # the request: 6 144 Queries, then a 504
    ("antimeridian", 0.0, 179.9, (1.0, 10.0, 50.0, 100.0)),
    ("Fiji, -179.95", -17.0, -179.95, (50.0,)),
]
OFFERS_PER_POINT = 40
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


# -- the previous algorithm (layers/shared/python/pass_culture/geo.py before issue #9), kept to compare ------------
def previous_covering_cells(lat: float, lon: float, radius_km: float) -> list[str]:
    """PREVIOUS ALGORITHM: precision 4 at least, whatever the count; a flat-Earth box clamped to ±180 (so it never
    reads across the antimeridian); cells kept by the distance to their box's clamped corner point."""
    from pygeohash.bounding_box import BoundingBox, geohashes_in_box, get_bounding_box

    from pass_culture.geo import EARTH_RADIUS_KM, haversine_km

    d_lat = math.degrees(radius_km / EARTH_RADIUS_KM)
    d_lon = math.degrees(radius_km / (EARTH_RADIUS_KM * max(math.cos(math.radians(lat)), 1e-6)))
    box = (max(-90.0, lat - d_lat), max(-180.0, lon - d_lon), min(90.0, lat + d_lat), min(180.0, lon + d_lon))

    def cells(precision: int) -> list[str]:
        return sorted(geohashes_in_box(BoundingBox(*box), precision=precision))

    precision = 4
    while precision < 6 and len(cells(precision + 1)) <= 24:
        precision += 1
    kept = []
    for cell in cells(precision):
        b = get_bounding_box(cell)
        near_lat, near_lon = min(max(lat, b.min_lat), b.max_lat), min(max(lon, b.min_lon), b.max_lon)
        if haversine_km(lat, lon, near_lat, near_lon) <= radius_km:
            kept.append(cell)
    return kept


# -- the bench -----------------------------------------------------------------------------------------------------
def seed(table: Any) -> list[tuple[str, float, float]]:
    """Offers scattered within 110 km of every point (so across ±180 and around the pole too): (id, lat, lon)."""
    from pass_culture.accounts.models import Offerer, ValidationStatus
    from pass_culture.accounts.repository import AccountsRepository
    from pass_culture.geo import destination, encode
    from pass_culture.offers.models import Offer, Stock, VenueSnapshot
    from pass_culture.offers.repository import _geo_keys, _index_keys, offer_key, stock_key

    offerer = Offerer(
        id="offerer", siren="000000001", name="o", validation_status=ValidationStatus.VALIDATED, created_at=NOW
    )
    AccountsRepository(table).create_offerer(offerer, owner_user_id="owner")
    rng = random.Random(9)  # noqa: S311 - a reproducible layout, not a secret
    items: list[dict[str, Any]] = []
    placed = []
    for p, (_, lat, lon, _radii) in enumerate(POINTS):
        for n in range(OFFERS_PER_POINT):
            # Half within 1.5 km (something for the small radii), half out to 110 km, area-uniform.
            reach = 1.5 if n % 2 else 110.0
            at_lat, at_lon = destination(lat, lon, reach * math.sqrt(rng.random()), rng.uniform(0, 360))
            venue = VenueSnapshot(id=f"v{p}x{n}", name="Lieu", address="a", postal_code="75000", city="Paris",
                                  latitude=at_lat, longitude=at_lon, booking_email="v@x.fr")  # fmt: skip
            offer = Offer(
                id=f"o{p}x{n}", venue_id=venue.id, offerer_id=offerer.id, name="Concert", subcategory_id="CONCERT",
                is_active=True, venue=venue, geohash=encode(at_lat, at_lon), created_at=NOW, updated_at=NOW,
                stock_ids=[f"o{p}x{n}.0"],
            )  # fmt: skip
            stock = Stock(id=f"o{p}x{n}.0", offer_id=offer.id, price_cents=500, quantity=None, created_at=NOW)
            items.append({**offer_key(offer.id), "entity": "OFFER", **_index_keys(offer), **offer.to_api()})
            items[-1].update(_geo_keys(offer))
            items.append({**stock_key(stock.id), "entity": "STOCK", **stock.to_api()})
            placed.append((offer.id, at_lat, at_lon))
    table.put_many(items)
    return placed


def run() -> int:
    from infra.bench import template_table
    from pass_culture.clock import FixedClock
    from pass_culture.errors import BadRequest
    from pass_culture.geo import MAX_CELLS, covering_cells, haversine_km
    from pass_culture.offers.images import ImageUploads
    from pass_culture.offers.repository import OffersRepository
    from pass_culture.offers.service import MAX_SEARCH_CHUNKS, OffersService, SearchQuery

    client, table = template_table()
    placed = seed(table)
    repository = OffersRepository(table)
    service = OffersService(repository, ImageUploads(None, "unused"), FixedClock(NOW))
    calls: list[str] = []
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))

    print(f"search work per request: cells and DynamoDB Queries (moto in-process, {len(placed)} offers seeded)")
    print(f"AFTER caps a search at {MAX_CELLS} Queries and {MAX_SEARCH_CHUNKS} BatchGetItem chunks a page")
    header = (
        f"{'point':<14}{'lat':>8}{'lon':>9}{'km':>5}{'truth':>6} | {'cells':>5}{'Query':>6}{'found':>6}{'ms':>7} |"
        f" {'cells':>5}{'Query':>6}{'Batch':>6}{'ms':>5}  answer"
    )
    print(f"{'':<42}| {'BEFORE (previous algorithm)':<24} | AFTER")
    print(header)
    print("-" * (len(header) + 12))
    worst = 0
    for name, lat, lon, radii in POINTS:
        for radius in radii:
            truth = {o for o, a, b in placed if haversine_km(lat, lon, a, b) <= radius}
            old_cells = previous_covering_cells(lat, lon, radius)
            calls.clear()
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=8) as pool:
                read = {o.id for offers in pool.map(repository.offers_in_cell, old_cells) for o in offers}
            old_ms = (time.perf_counter() - started) * 1000
            old_queries = calls.count("Query")
            old_found = len({o for o in read if o in truth})
            calls.clear()
            started = time.perf_counter()
            try:
                answer = service.search(SearchQuery(lat, lon, radius, limit=100))
                new_ms = (time.perf_counter() - started) * 1000
                cells, outcome = str(len(covering_cells(lat, lon, radius))), f"{len(answer['items'])} found"
            except BadRequest as refused:
                new_ms = (time.perf_counter() - started) * 1000
                cells, outcome = "-", f"400 {refused.code}, max {refused.details[0]['maxRadiusKm']} km"
            queries, batch_gets = calls.count("Query"), calls.count("BatchGetItem")
            worst = max(worst, queries)
            print(
                f"{name:<14}{lat:>8}{lon:>9}{radius:>5g}{len(truth):>6} |"
                f" {len(old_cells):>5}{old_queries:>6}{old_found:>6}{old_ms:>7.0f} |"
                f" {cells:>5}{queries:>6}{batch_gets:>6}{new_ms:>5.0f}  {outcome}"
            )
    print(f"AFTER, most Queries of one search: {worst} (cap {MAX_CELLS})")
    print(summary_line("search: most DynamoDB Queries of one search", str(worst), f"≤ {MAX_CELLS}", worst <= MAX_CELLS))
    return 0


def main() -> int:
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION="eu-west-3",
        AWS_REGION="eu-west-3",
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    with mock_aws():
        return run()


if __name__ == "__main__":
    sys.exit(main())
