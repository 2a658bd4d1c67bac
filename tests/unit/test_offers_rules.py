from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pass_culture.errors import BadRequest, RuleRefused
from pass_culture.geo import covering_cells, encode, haversine_km
from pass_culture.offers.catalogue import parse_catalogue
from pass_culture.offers.models import Stock
from pass_culture.offers.rules import (
    OfferStatus,
    book_ineligibility,
    check_offer_fits,
    check_stock_dates,
    folded,
    is_stock_bookable,
    offer_status,
    subcategory_of,
    valid_ean,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def stock(
    quantity: int | None = 5, booked: int = 0, limit: datetime | None = None, beginning: datetime | None = None
) -> Stock:
    return Stock(
        id="o.1", offer_id="o", price_cents=500, quantity=quantity, booked_quantity=booked,
        booking_limit_datetime=limit, beginning_datetime=beginning, created_at=NOW,
    )  # fmt: skip


def test_paris_to_orleans_is_about_111_km() -> None:
    assert haversine_km(48.8566, 2.3522, 47.9029, 1.9093) == pytest.approx(111.1, abs=0.5)


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(41.0, 51.0),
    lon=st.floats(-5.0, 9.5),
    radius=st.floats(0.2, 100.0),
    bearing=st.floats(0, 360),
    fraction=st.floats(0, 1),
)
def test_the_covering_cells_contain_every_point_of_the_circle(
    lat: float, lon: float, radius: float, bearing: float, fraction: float
) -> None:
    import math

    distance = radius * fraction
    d = distance / 6371.0088
    phi1, lambda1, theta = math.radians(lat), math.radians(lon), math.radians(bearing)
    phi2 = math.asin(math.sin(phi1) * math.cos(d) + math.cos(phi1) * math.sin(d) * math.cos(theta))
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(d) * math.cos(phi1), math.cos(d) - math.sin(phi1) * math.sin(phi2)
    )
    point = encode(math.degrees(phi2), math.degrees(lambda2))
    cells = covering_cells(lat, lon, radius)
    assert any(point.startswith(cell) for cell in cells)
    assert len(cells) <= 100


def test_small_circles_read_few_fine_cells() -> None:
    assert len(covering_cells(48.8566, 2.3522, 2)) <= 24
    assert all(len(cell) >= 5 for cell in covering_cells(48.8566, 2.3522, 2))


def test_digital_offers_need_a_url_and_physical_ones_refuse_it() -> None:
    check_offer_fits(subcategory_of("VOD"), url="https://vod.example/film", is_duo=False, ean=None)
    with pytest.raises(RuleRefused, match="url"):
        check_offer_fits(subcategory_of("VOD"), url=None, is_duo=False, ean=None)
    with pytest.raises(RuleRefused, match="url"):
        check_offer_fits(subcategory_of("LIVRE_PAPIER"), url="https://x.example", is_duo=False, ean=None)


def test_duo_only_where_the_subcategory_allows_it_and_ean_only_for_books() -> None:
    check_offer_fits(subcategory_of("SEANCE_CINE"), url=None, is_duo=True, ean=None)
    with pytest.raises(RuleRefused):
        check_offer_fits(subcategory_of("LIVRE_PAPIER"), url=None, is_duo=True, ean=None)
    with pytest.raises(RuleRefused):
        check_offer_fits(subcategory_of("CONCERT"), url=None, is_duo=False, ean="9782070360024")
    with pytest.raises(BadRequest):
        subcategory_of("NOPE")


def test_eans_and_school_books() -> None:
    assert valid_ean("978-2-07-036002-4") == "9782070360024"
    with pytest.raises(BadRequest):
        valid_ean("9782070360025")
    with pytest.raises(BadRequest):
        valid_ean("12345670")  # a valid EAN-8 is not an EAN-13
    assert book_ineligibility("3000") == "Les livres scolaires (CLIL 3000) ne sont pas éligibles au pass Culture."
    assert "parascolaire" in str(book_ineligibility("3013"))
    assert book_ineligibility("3435") is None


def test_event_stocks_need_a_future_beginning_and_a_limit_before_it() -> None:
    event = subcategory_of("RENCONTRE")
    beginning = NOW + timedelta(days=3)
    assert check_stock_dates(event, beginning, None, NOW) == beginning
    assert check_stock_dates(event, beginning, NOW + timedelta(days=1), NOW) == NOW + timedelta(days=1)
    for bad_beginning, bad_limit in (
        (None, None),
        (NOW - timedelta(hours=1), None),
        (beginning, beginning + timedelta(minutes=1)),
    ):
        with pytest.raises(RuleRefused):
            check_stock_dates(event, bad_beginning, bad_limit, NOW)
    with pytest.raises(RuleRefused):
        check_stock_dates(subcategory_of("LIVRE_PAPIER"), beginning, None, NOW)


def test_bookability_and_status() -> None:
    assert is_stock_bookable(stock(), NOW)
    assert is_stock_bookable(stock(quantity=None), NOW, asked=2)
    assert not is_stock_bookable(stock(quantity=2, booked=2), NOW)
    assert not is_stock_bookable(stock(quantity=2, booked=1), NOW, asked=2)
    assert not is_stock_bookable(stock(limit=NOW - timedelta(seconds=1)), NOW)
    assert not is_stock_bookable(stock(beginning=NOW), NOW)
    assert offer_status(False, [stock()], NOW) is OfferStatus.INACTIVE
    assert offer_status(True, [stock()], NOW) is OfferStatus.ACTIVE
    assert offer_status(True, [stock(quantity=1, booked=1)], NOW) is OfferStatus.SOLD_OUT
    assert offer_status(True, [stock(limit=NOW - timedelta(days=1))], NOW) is OfferStatus.EXPIRED
    assert offer_status(True, [], NOW) is OfferStatus.SOLD_OUT


def test_name_search_ignores_case_and_accents() -> None:
    assert folded("misérables") in folded("Les MISÉRABLES")


def test_catalogue_rows_are_loaded_or_rejected_with_their_line() -> None:
    parsed = parse_catalogue(
        "\ufeffean,title,author,publisher,clil\n"
        "9782070360024,L'Étranger,Albert Camus,Gallimard,3435\n"
        "9782070360025,Bad checksum,,,\n"
        "9782070360024,Duplicate,,,\n"
        "9782253096344,,Hugo,,3435\n"
        "9782070612758,Le Petit Prince,,,x\n"
        "9782070368228,too,few\n"
        "\n"
        '9782091890302,"Maths 3e, cahier",Collectif,Nathan,3000\n'
    )
    assert [book.ean for book in parsed.books] == ["9782070360024", "9782091890302"]
    assert parsed.books[1].title == "Maths 3e, cahier"
    assert [r["line"] for r in parsed.rejected] == [3, 4, 5, 6, 7]
    assert "already on line 2" in str(parsed.rejected[1]["reason"])
    with pytest.raises(BadRequest, match="header"):
        parse_catalogue("isbn,title\n")
