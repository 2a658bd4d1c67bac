"""The provider's stock API client (domain.md, "Stock import") against the fake provider on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.local.fake_provider import (
    BAD_CHECKSUM,
    BOOK,
    DEFAULT_MIX,
    MISSING_AVAILABLE,
    MISSING_PRICE,
    MISSING_REF,
    NEGATIVE_AVAILABLE,
    SCHOOL_BOOK,
    UNKNOWN,
    ZERO_AVAILABLE,
    FakeProvider,
    ean13,
    generate_feed,
)
from pass_culture.offers.catalogue import parse_catalogue
from pass_culture.stock_import.provider import (
    ProviderConnection,
    ProviderError,
    check_connection,
    fetch_page,
    format_modified_since,
    page_url,
    pages,
)
from pass_culture.stock_import.rules import FeedLine, Rejection, read_line

SIRET = "12345678900012"
TOKEN = "s3cr3t-t0ken"


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider() as provider:
        yield provider


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[FakeProvider]:
    with FakeProvider() as provider:
        yield provider


def connect(provider: FakeProvider, **kwargs: Any) -> ProviderConnection:
    return ProviderConnection(provider="titelive", base_url=provider.base_url, allow_loopback=True, **kwargs)


def numbered(count: int) -> list[dict[str, Any]]:
    return [{"ref": f"978000000{n:04d}", "available": n, "price": 10} for n in range(1, count + 1)]


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def read_all(connection: ProviderConnection, **kwargs: Any) -> list[tuple[list[Any], str]]:
    return list(pages(connection, SIRET, sleep=Sleeps(), **kwargs))


# --- URLs and paging -------------------------------------------------------------------------------------------------
def test_urls_quote_the_siret_and_join_the_base_with_or_without_slash() -> None:
    assert page_url("https://p.example/api/", "123 45/6", limit=1000, after=None, modified_since=None) == (
        "https://p.example/api/123%2045%2F6?limit=1000"
    )
    assert page_url("https://p.example/api", SIRET, limit=5, after="9780000000017", modified_since=None) == (
        f"https://p.example/api/{SIRET}?limit=5&after=9780000000017"
    )
    with pytest.raises(ProviderError) as refused:
        page_url("file:///etc/passwd", SIRET, limit=1, after=None, modified_since=None)
    assert refused.value.retryable is False


def test_modified_since_is_formatted_in_utc() -> None:
    paris = datetime(2024, 6, 2, 1, 0, 30, 999_000, tzinfo=ZoneInfo("Europe/Paris"))
    assert format_modified_since(paris) == "2024-06-01T23:00:30Z"
    assert format_modified_since(datetime(2024, 6, 1, 23, 0, 30)) == "2024-06-01T23:00:30Z"  # naive: UTC


def test_pages_by_after_until_an_empty_page(fake: FakeProvider) -> None:
    fake.add_venue(SIRET, numbered(25))
    read = read_all(connect(fake), limit=10)
    assert [len(lines) for lines, _ in read] == [10, 10, 5]
    assert [cursor for _, cursor in read] == ["9780000000010", "9780000000020", "9780000000025"]
    assert [(r.after, r.limit, r.modified_since) for r in fake.requests] == [
        (None, 10, None),
        ("9780000000010", 10, None),
        ("9780000000020", 10, None),
        ("9780000000025", 10, None),
    ]
    assert all("modifiedSince" not in r.path and r.authorization is None for r in fake.requests)


def test_resumes_from_a_cursor(fake: FakeProvider) -> None:
    fake.add_venue(SIRET, numbered(25))
    read = read_all(connect(fake), limit=10, after="9780000000020")
    assert [line["ref"] for lines, _ in read for line in lines] == [f"978000000{n:04d}" for n in range(21, 26)]


def test_an_empty_feed_gives_no_page(fake: FakeProvider) -> None:
    fake.add_venue(SIRET, [])
    assert read_all(connect(fake)) == []
    assert len(fake.requests) == 1


def test_modified_since_serves_only_the_changed_lines(fake: FakeProvider) -> None:
    fake.add_venue(SIRET, numbered(30))
    last_run = datetime.now(UTC) - timedelta(minutes=5)
    fake.update(SIRET, "9780000000007", available=0, at=last_run + timedelta(minutes=1))
    fake.update(SIRET, "9780000000021", price=12.5, available=None, at=last_run)  # at the second: served
    read = read_all(connect(fake), modified_since=last_run, limit=1)
    assert [lines for lines, _ in read] == [
        [{"ref": "9780000000007", "available": 0, "price": 10}],
        [{"ref": "9780000000021", "price": 12.5}],
    ]
    assert {r.modified_since for r in fake.requests} == {format_modified_since(last_run)}


def test_basic_auth_with_the_token_as_given(fake: FakeProvider) -> None:
    fake.token = TOKEN
    fake.add_venue(SIRET, numbered(3))
    assert len(read_all(connect(fake, token=TOKEN))) == 1
    assert {r.authorization for r in fake.requests} == {f"Basic {TOKEN}"}
    with pytest.raises(ProviderError) as refused:
        read_all(connect(fake, token="wrong"))
    assert (refused.value.reason, refused.value.status, refused.value.retryable) == ("HTTP_ERROR", 401, False)
    assert "wrong" not in str(refused.value)
    assert TOKEN not in repr(connect(fake, token=TOKEN))


# --- failures --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "reason", "retryable"),
    [
        ("timeout", "TIMEOUT", True),
        ("http_500", "HTTP_ERROR", True),
        ("html", "NOT_JSON", True),
        ("truncated", "NOT_JSON", True),
        ("bad_shape", "BAD_SHAPE", False),
    ],
)
def test_each_failure_has_its_reason(fake: FakeProvider, mode: str, reason: str, retryable: bool) -> None:
    fake.add_venue(SIRET, numbered(5))
    fake.fail(mode, delay=1.0)
    with pytest.raises(ProviderError) as failed:
        fetch_page(connect(fake), SIRET, after=None, modified_since=None, timeout=0.2)
    assert (failed.value.reason, failed.value.retryable) == (reason, retryable)
    assert 0 < len(failed.value.detail) <= 300


def test_a_retryable_failure_is_retried_with_backoff(fake: FakeProvider) -> None:
    fake.add_venue(SIRET, numbered(5))
    fake.fail("http_500", times=2, page=2)
    sleeps = Sleeps()
    read = list(pages(connect(fake), SIRET, limit=3, sleep=sleeps))
    assert [len(lines) for lines, _ in read] == [3, 2]
    assert sleeps == [1.0, 2.0]
    assert [r.status for r in fake.requests] == [200, 500, 500, 200, 200]


def test_a_timeout_is_retried_then_raised(fake: FakeProvider) -> None:
    fake.add_venue(SIRET, numbered(5))
    fake.fail("timeout", delay=1.0)
    sleeps = Sleeps()
    with pytest.raises(ProviderError) as failed:
        list(pages(connect(fake), SIRET, sleep=sleeps, timeout=0.2, retries=2))
    assert failed.value.reason == "TIMEOUT"
    assert sleeps == [1.0, 2.0]
    assert len(fake.requests) == 3


def test_a_provider_failing_for_good_raises_after_its_retries(fake: FakeProvider) -> None:
    fake.add_venue(SIRET, numbered(5))
    fake.fail("truncated")
    sleeps = Sleeps()
    with pytest.raises(ProviderError) as failed:
        list(pages(connect(fake), SIRET, sleep=sleeps))
    assert (failed.value.reason, failed.value.retryable) == ("NOT_JSON", True)
    assert sleeps == [1.0, 2.0, 4.0]
    assert len(fake.requests) == 4


def test_a_non_retryable_failure_is_not_retried(fake: FakeProvider) -> None:
    fake.add_venue(SIRET, numbered(5))
    fake.fail("bad_shape")
    sleeps = Sleeps()
    with pytest.raises(ProviderError):
        list(pages(connect(fake), SIRET, sleep=sleeps))
    assert sleeps == []
    assert len(fake.requests) == 1


def test_the_same_page_twice_is_a_loop(fake: FakeProvider) -> None:
    fake.add_venue(SIRET, numbered(25))
    fake.fail("same_page")
    with pytest.raises(ProviderError) as looped:
        read_all(connect(fake), limit=10)
    assert (looped.value.reason, looped.value.retryable) == ("REPEATED_PAGE", False)
    assert len(fake.requests) == 2


def test_a_page_going_backwards_is_a_loop(fake: FakeProvider) -> None:
    fake.add_venue(SIRET, numbered(25))
    fake.fail("same_page")  # the provider ignores `after`: its first page ends before the cursor
    with pytest.raises(ProviderError) as looped:
        read_all(connect(fake), limit=10, after="9780000000015")
    assert looped.value.reason == "REPEATED_PAGE"
    assert len(fake.requests) == 1


def test_a_never_ending_feed_is_bounded(fake: FakeProvider) -> None:
    fake.add_venue(SIRET, numbered(5))
    fake.fail("never_ending")
    with pytest.raises(ProviderError) as endless:
        read_all(connect(fake), limit=3, max_pages=5)
    assert (endless.value.reason, endless.value.retryable) == ("TOO_MANY_PAGES", False)
    assert len(fake.requests) == 6


def test_a_feed_of_exactly_max_pages_ends_well(fake: FakeProvider) -> None:
    fake.add_venue(SIRET, numbered(15))
    assert len(read_all(connect(fake), limit=3, max_pages=5)) == 5


# --- connecting ------------------------------------------------------------------------------------------------------
def test_check_connection_calls_once_with_limit_1(fake: FakeProvider) -> None:
    fake.add_venue(SIRET, numbered(5))
    check_connection(connect(fake), SIRET)
    assert [(r.siret, r.limit, r.after) for r in fake.requests] == [(SIRET, 1, None)]


def test_check_connection_refuses_an_unknown_siret(fake: FakeProvider) -> None:
    with pytest.raises(ProviderError) as unknown:
        check_connection(connect(fake), "99999999900099")
    assert (unknown.value.reason, unknown.value.status) == ("HTTP_ERROR", 404)
    assert "unknown SIRET 99999999900099" in unknown.value.detail
    assert len(fake.requests) == 1


def test_check_connection_refuses_an_unreachable_provider() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ProviderError) as unreachable:
        check_connection(ProviderConnection("gestock", f"http://127.0.0.1:{port}/", allow_loopback=True), SIRET)
    assert (unreachable.value.reason, unreachable.value.retryable) == ("UNREACHABLE", True)
    assert unreachable.value.detail


# --- the fake's feed -------------------------------------------------------------------------------------------------
def test_the_generated_feed_is_deterministic_and_mixed_as_asked() -> None:
    feed = generate_feed(seed=7, size=1000)
    assert feed.lines == generate_feed(seed=7, size=1000).lines
    assert feed.lines != generate_feed(seed=8, size=1000).lines
    assert sum(feed.counts.values()) == len(feed.lines) == 1000
    assert feed.counts == {kind: round(1000 * share) for kind, share in DEFAULT_MIX.items()}
    expected = {
        BOOK: FeedLine,
        ZERO_AVAILABLE: FeedLine,
        SCHOOL_BOOK: FeedLine,
        UNKNOWN: FeedLine,
        MISSING_PRICE: FeedLine,
        BAD_CHECKSUM: Rejection.BAD_EAN,
        NEGATIVE_AVAILABLE: Rejection.NEGATIVE_AVAILABLE,
        MISSING_AVAILABLE: Rejection.MISSING_AVAILABLE,
    }
    by_ref = {line["ref"]: read_line(line, prices_in_cents=False) for line in feed.lines if "ref" in line}
    for kind, outcome in expected.items():
        for ean in feed.eans[kind]:
            assert isinstance(by_ref[ean], FeedLine) if outcome is FeedLine else by_ref[ean] == outcome, (kind, ean)
    assert sum(1 for line in feed.lines if "ref" not in line) == feed.counts[MISSING_REF]
    assert all(by_ref[ean].price_cents is None for ean in feed.eans[MISSING_PRICE])  # type: ignore[union-attr]
    assert all(by_ref[ean].available == 0 for ean in feed.eans[ZERO_AVAILABLE])  # type: ignore[union-attr]
    catalogue = parse_catalogue(feed.catalogue_csv())
    assert not catalogue.rejected
    clils = {book.ean: book.clil for book in catalogue.books}
    assert {clils[ean] for ean in feed.school_books} == {"3000", "3013"}
    assert clils[feed.books[0]] == "3435"
    assert not set(feed.unknown) & set(clils)


def test_the_feed_uses_the_eans_it_is_given_and_prices_in_cents() -> None:
    books = [ean13(f"978207036{n:03d}") for n in range(10)]
    feed = generate_feed(seed=1, size=20, mix={BOOK: 1}, books=books[:5], prices_in_cents=True)
    assert set(books[:5]) <= set(feed.books)
    assert all(isinstance(line["price"], int) for line in feed.lines)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 10_000),
    size=st.integers(0, 300),
    limit=st.integers(1, 40),
    missing_ref=st.sampled_from([0.0, 0.01, 0.3]),
)
def test_the_feed_read_through_pages_gives_every_line_once_in_ref_order(
    shared_fake: FakeProvider, seed: int, size: int, limit: int, missing_ref: float
) -> None:
    feed = generate_feed(seed, size, mix={**DEFAULT_MIX, MISSING_REF: missing_ref})
    shared_fake.add_venue(SIRET, feed.lines)
    read = [line for lines, _ in read_all(connect(shared_fake), limit=limit) for line in lines]
    assert read == shared_fake.lines(SIRET)
    assert sorted(map(repr, read)) == sorted(map(repr, feed.lines))
    refs = [line["ref"] for line in read if "ref" in line]
    assert refs == sorted(set(refs))


def test_runs_from_the_command_line() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local.fake_provider", "--port", "0", "--siret", SIRET, "--size", "50"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        answer = requests.get(f"{base_url}/{SIRET}", params={"limit": 1000}, timeout=5)
        assert len(answer.json()["stocks"]) == 50
    finally:
        process.terminate()
        process.wait(timeout=5)


class _Echo(BaseHTTPRequestHandler):
    """Redirects /moved, else answers 500 echoing the Authorization header (a careless provider)."""

    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        if self.path.startswith("/moved/"):
            self.send_response(302)
            self.send_header("Location", "/elsewhere/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = f"bad request with {self.headers.get('Authorization')}".encode()
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_redirects_are_not_followed_and_the_token_never_shows() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        with pytest.raises(ProviderError) as moved:
            fetch_page(
                ProviderConnection("praxiel", f"{base}/moved", TOKEN, allow_loopback=True),
                SIRET,
                after=None,
                modified_since=None,
            )
        assert (moved.value.reason, moved.value.status) == ("HTTP_ERROR", 302)
        assert _Echo.hits == [f"/moved/{SIRET}?limit=1000"]
        with pytest.raises(ProviderError) as echoed:
            fetch_page(
                ProviderConnection("praxiel", base, TOKEN, allow_loopback=True), SIRET, after=None, modified_since=None
            )
        assert echoed.value.status == 500
        assert TOKEN not in str(echoed.value)
        assert "Basic ***" in echoed.value.detail
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433"])  # 2130706433: 127.0.0.1 in decimal
def test_a_provider_reached_on_a_private_address_is_refused_when_connecting(fake: FakeProvider, host: str) -> None:
    """Whatever the URL says, the peer the connection reached is checked: a name or a number leading into our
    network is refused before anything is sent (the fake provider is on loopback, allowed only locally)."""
    port = fake.base_url.rsplit(":", 1)[1].split("/", 1)[0]
    refused = ProviderConnection("titelive", f"http://{host}:{port}/stocks", TOKEN)
    before = len(fake.requests)
    with pytest.raises(ProviderError) as raised:
        fetch_page(refused, SIRET, after=None, modified_since=None)
    assert raised.value.reason == "UNREACHABLE" and "loopback" in raised.value.detail
    assert not raised.value.retryable
    assert len(fake.requests) == before  # nothing reached it
