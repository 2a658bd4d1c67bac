"""One line of a provider's feed: read, or rejected with its reason — never fatal (domain.md, "Stock import")."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pass_culture.stock_import.rules import FeedLine, Rejection, price_in_cents, read_line, stock_quantity

BOOK = "9782070360024"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ({"ref": BOOK, "available": 3, "price": 8.9}, FeedLine(BOOK, 3, 890)),
        ({"ref": int(BOOK), "available": 0, "price": "12,50"}, FeedLine(BOOK, 0, 1250)),
        ({"ref": f" {BOOK} ", "available": 2.0}, FeedLine(BOOK, 2, None)),  # price: the catalogue's
        ({"available": 3, "price": 8.9}, Rejection.MISSING_REF),
        ({"ref": "", "available": 3}, Rejection.MISSING_REF),
        ("not a line", Rejection.MISSING_REF),
        ({"ref": "9782070360025", "available": 3}, Rejection.BAD_EAN),  # wrong check digit
        ({"ref": "97820703600", "available": 3}, Rejection.BAD_EAN),
        ({"ref": True, "available": 3}, Rejection.BAD_EAN),
        ({"ref": BOOK, "price": 8.9}, Rejection.MISSING_AVAILABLE),
        ({"ref": BOOK, "available": -1}, Rejection.NEGATIVE_AVAILABLE),
        ({"ref": BOOK, "available": 1.5}, Rejection.BAD_AVAILABLE),
        ({"ref": BOOK, "available": "3"}, Rejection.BAD_AVAILABLE),
        ({"ref": BOOK, "available": True}, Rejection.BAD_AVAILABLE),
        ({"ref": BOOK, "available": 10**12}, Rejection.BAD_AVAILABLE),
        ({"ref": BOOK, "available": float("inf")}, Rejection.BAD_AVAILABLE),
        ({"ref": BOOK, "available": float("nan")}, Rejection.BAD_AVAILABLE),
        ({"ref": BOOK, "available": 1, "price": float("inf")}, Rejection.BAD_PRICE),
        ({"ref": BOOK, "available": 1, "price": -1}, Rejection.BAD_PRICE),
        ({"ref": BOOK, "available": 1, "price": 300.01}, Rejection.BAD_PRICE),
        ({"ref": BOOK, "available": 1, "price": "cher"}, Rejection.BAD_PRICE),
        ({"ref": BOOK, "available": 1, "price": float("nan")}, Rejection.BAD_PRICE),
    ],
)
def test_a_line_is_read_or_rejected_with_its_reason(line: Any, expected: FeedLine | Rejection) -> None:
    assert read_line(line, prices_in_cents=False) == expected


def test_prices_in_cents_when_the_provider_says_so() -> None:
    assert read_line({"ref": BOOK, "available": 1, "price": 890}, prices_in_cents=True) == FeedLine(BOOK, 1, 890)
    assert price_in_cents(8.905, prices_in_cents=False) == 891  # half up, on the decimal text, not the float
    assert price_in_cents(0, prices_in_cents=False) == 0  # free is a price


@given(st.integers(min_value=0, max_value=30_000))
def test_euros_and_cents_agree(cents: int) -> None:
    assert price_in_cents(f"{cents // 100}.{cents % 100:02d}", prices_in_cents=False) == cents
    assert price_in_cents(cents, prices_in_cents=True) == cents


@given(
    st.dictionaries(
        st.sampled_from(["ref", "available", "price", "x"]),
        st.none() | st.integers() | st.floats() | st.text() | st.booleans(),
    )
)
def test_no_line_whatever_it_holds_raises(line: dict[str, Any]) -> None:
    read_line(line, prices_in_cents=False)
    read_line(line, prices_in_cents=True)


def test_the_stock_counts_the_shelf_and_what_is_booked() -> None:
    assert stock_quantity(available=4, booked=2) == 6
    assert stock_quantity(available=0, booked=1) == 1  # a booking made before the import keeps its place


@pytest.mark.parametrize(
    ("url", "allow_loopback", "allowed"),
    [
        ("https://stocks.titelive.example/api", False, True),
        ("http://stocks.titelive.example/api", False, False),
        ("https://127.0.0.1:8443/api", False, False),
        ("https://10.0.0.5/api", False, False),
        ("https://169.254.169.254/latest", False, False),
        ("http://127.0.0.1:8765/stocks", False, False),
        ("http://127.0.0.1:8765/stocks", True, True),
        ("http://localhost:8765/stocks", True, True),
        ("http://10.0.0.5/stocks", True, False),
        ("https://[::1", False, False),  # not a URL (urlsplit raises): a 422, never a 500
        ("https://stocks.example:99999/api", False, False),  # a port out of range
        ("https://user:secret@stocks.example/api", False, False),  # credentials belong in the token
        ("https:///api", False, False),  # no host
        ("https://[::ffff:10.0.0.1]/api", False, False),
        ("https://100.64.0.1/api", False, False),  # shared address space: not public
    ],
)
def test_provider_urls_are_https_and_public_except_the_local_fake(
    url: str, allow_loopback: bool, allowed: bool
) -> None:
    from pass_culture.stock_import.rules import provider_url_problem

    assert (provider_url_problem(url, allow_loopback=allow_loopback) is None) is allowed


@pytest.mark.parametrize(
    ("status", "read", "rejected", "alert"),
    [
        ("FAILED", 0, 0, True),  # the provider failed: always told
        ("PARTIAL", 100, 5, False),  # 5 % is not more than 5 %
        ("PARTIAL", 100, 6, True),
        ("PARTIAL", 1000, 51, True),
        ("SUCCESS", 1000, 0, False),
        ("RUNNING", 100, 90, False),  # not ended: a checkpoint tells nobody
        ("PARTIAL", 0, 0, False),
    ],
)
def test_the_venue_hears_of_a_failed_run_and_of_more_than_5_percent_rejected(
    status: str, read: int, rejected: int, alert: bool
) -> None:
    from pass_culture.stock_import.rules import run_needs_the_venue

    assert run_needs_the_venue(status=status, read=read, rejected=rejected) is alert


@pytest.mark.parametrize(
    ("ip", "allow_loopback", "allowed"),
    [
        ("93.184.216.34", False, True),
        ("2606:2800:220:1:248:1893:25c8:1946", False, True),
        ("127.0.0.1", False, False),
        ("127.0.0.1", True, True),
        ("::1", True, True),
        ("10.1.2.3", True, False),
        ("169.254.169.254", False, False),  # the instance metadata service
        ("::ffff:192.168.1.1", False, False),
        ("0.0.0.0", False, False),
        ("224.0.0.1", False, False),
        ("fe80::1%eth0", False, False),
    ],
)
def test_the_import_talks_to_public_addresses_only(ip: str, allow_loopback: bool, allowed: bool) -> None:
    from pass_culture.stock_import.rules import address_problem

    assert (address_problem(ip, allow_loopback=allow_loopback) is None) is allowed
