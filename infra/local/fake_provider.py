"""A fake bookshop stock software, for tests, benchmarks and local runs: an HTTP server on loopback that answers as the
real providers do (domain.md, "Stock import"):

    GET {base}/{siret}?limit=1000&after={lastRef}&modifiedSince=%Y-%m-%dT%H:%M:%SZ   ->   {"stocks": [...]}

Lines are served sorted by ref, after `after`, modified at or after `modifiedSince`, `limit` at a time (a page never
ends between a ref and the ref-less lines that follow it, so paging by the last ref loses none). With a token, the
`Authorization: Basic <token>` header is required (401 otherwise); an unknown SIRET is a 404.

    provider = FakeProvider(token="secret")
    feed = generate_feed(seed=1, size=1000)
    provider.add_venue("12345678900012", feed.lines)
    base_url = provider.start()
    ...
    provider.fail("http_500", times=2)              # the next two requests answer 500
    provider.update("12345678900012", feed.books[0], available=7)   # changed now: served again with modifiedSince
    provider.stop()

Failure modes: timeout (answers after `delay` s), http_500, html (an HTML page with 200), truncated (cut JSON),
bad_shape (200 without "stocks"), same_page (always the first page), never_ending (always a new page).

`python -m infra.local.fake_provider --port 8765 --siret 12345678900012 --size 1000` serves a feed for local runs.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import io
import json
import random
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from stdnum.ean import calc_check_digit

MODIFIED_SINCE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
GENERATED_AT = datetime(2024, 1, 1, tzinfo=UTC)  # generated lines' modification time: before any run
MAX_LIMIT = 10_000
BASE_PATH = "/stocks"  # the API's path under the host: `GET /stocks/{siret}`
FAILURE_MODES = ("timeout", "http_500", "html", "truncated", "bad_shape", "same_page", "never_ending")

# The kinds of lines a generated feed mixes, and what the import should make of each.
BOOK = "book"  # a catalogue book, eligible: an offer with its stock
ZERO_AVAILABLE = "zero_available"  # a catalogue book, available 0: no new offer
SCHOOL_BOOK = "school_book"  # a catalogue book of CLIL 3000/3013: refused
UNKNOWN = "unknown"  # a valid EAN the catalogue does not have
BAD_CHECKSUM = "bad_checksum"  # BAD_EAN
NEGATIVE_AVAILABLE = "negative_available"  # NEGATIVE_AVAILABLE
MISSING_AVAILABLE = "missing_available"  # MISSING_AVAILABLE
MISSING_REF = "missing_ref"  # MISSING_REF
MISSING_PRICE = "missing_price"  # a catalogue book without price: the catalogue's price, else MISSING_PRICE

DEFAULT_MIX: dict[str, float] = {
    BOOK: 0.80,
    ZERO_AVAILABLE: 0.02,
    SCHOOL_BOOK: 0.04,
    UNKNOWN: 0.04,
    BAD_CHECKSUM: 0.03,
    NEGATIVE_AVAILABLE: 0.02,
    MISSING_AVAILABLE: 0.02,
    MISSING_REF: 0.01,
    MISSING_PRICE: 0.02,
}
CATALOGUE_KINDS = (BOOK, ZERO_AVAILABLE, SCHOOL_BOOK, MISSING_PRICE)  # the EANs a test's catalogue should hold
SCHOOL_CLILS = ("3000", "3013")


@dataclass
class Feed:
    """A generated feed: its lines (sorted by ref) and, per kind, the EANs used, so a test can load a catalogue."""

    lines: list[dict[str, Any]]
    eans: dict[str, list[str]]  # kind -> EANs (the hidden ones for MISSING_REF)
    counts: dict[str, int]
    prices_in_cents: bool = False

    @property
    def books(self) -> list[str]:
        return self.eans[BOOK]

    @property
    def school_books(self) -> list[str]:
        return self.eans[SCHOOL_BOOK]

    @property
    def unknown(self) -> list[str]:
        return self.eans[UNKNOWN]

    def catalogue_csv(self) -> str:
        """`ean,title,author,publisher,clil` for the books the catalogue should know (school books as 3000/3013)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["ean", "title", "author", "publisher", "clil"])
        for kind in CATALOGUE_KINDS:
            for index, ean in enumerate(self.eans[kind]):
                clil = SCHOOL_CLILS[index % 2] if kind == SCHOOL_BOOK else "3435"
                writer.writerow([ean, f"Livre {ean}", "Auteur Fictif", "Éditions du Test", clil])
        return out.getvalue()


def ean13(body12: str) -> str:
    return body12 + calc_check_digit(body12)


def generate_feed(
    seed: int,
    size: int,
    *,
    mix: Mapping[str, float] | None = None,
    prices_in_cents: bool = False,
    books: Iterable[str] | None = None,
    school_books: Iterable[str] | None = None,
    unknown: Iterable[str] | None = None,
) -> Feed:
    """`size` lines, deterministic for a seed. `mix`: the share of each kind (normalised; kinds left out are absent).
    `books`, `school_books`, `unknown`: EANs to use for those kinds (e.g. a catalogue's), generated from 978 when
    not given or too few."""
    shares = dict(DEFAULT_MIX if mix is None else mix)
    unknown_kinds = set(shares) - set(DEFAULT_MIX)
    if unknown_kinds:
        raise ValueError(f"unknown kinds of lines: {sorted(unknown_kinds)}")
    counts = _apportion(size, shares)
    rng = random.Random(seed)  # noqa: S311 (a reproducible feed, nothing secret)
    bodies = iter(f"978{n:09d}" for n in rng.sample(range(10**9), size))
    given = {BOOK: list(books or ()), SCHOOL_BOOK: list(school_books or ()), UNKNOWN: list(unknown or ())}
    eans: dict[str, list[str]] = {kind: [] for kind in DEFAULT_MIX}
    hidden: list[tuple[str, str, str]] = []  # (sort ref, kind, sent ref or "")
    used: set[str] = set()
    for kind in DEFAULT_MIX:
        for _ in range(counts.get(kind, 0)):
            pool = given.get(BOOK if kind in (ZERO_AVAILABLE, MISSING_PRICE) else kind, [])
            while pool and pool[0] in used:
                pool.pop(0)
            valid = pool.pop(0) if pool else ean13(next(bodies))
            used.add(valid)
            sent = valid
            if kind == BAD_CHECKSUM:
                sent = valid[:12] + str((int(valid[12]) + 1) % 10)
            eans[kind].append(valid if kind != BAD_CHECKSUM else sent)
            hidden.append((sent, kind, "" if kind == MISSING_REF else sent))
    hidden.sort()
    if hidden and hidden[0][1] == MISSING_REF and len(hidden) > 1:  # a feed starts with a ref
        first = next(index for index, entry in enumerate(hidden) if entry[1] != MISSING_REF)
        hidden.insert(0, hidden.pop(first))
    lines = [_line(rng, kind, ref, prices_in_cents) for _, kind, ref in hidden]
    return Feed(
        lines=lines, eans=eans, counts={kind: len(eans[kind]) for kind in DEFAULT_MIX}, prices_in_cents=prices_in_cents
    )


def _apportion(size: int, shares: Mapping[str, float]) -> dict[str, int]:
    total = sum(shares.values())
    if size < 0 or total <= 0 or any(share < 0 for share in shares.values()):
        raise ValueError("a size >= 0 and non-negative shares summing above 0")
    exact = {kind: size * share / total for kind, share in shares.items()}
    counts = {kind: int(value) for kind, value in exact.items()}
    by_remainder = sorted(exact, key=lambda kind: exact[kind] - counts[kind], reverse=True)
    for kind in by_remainder[: size - sum(counts.values())]:
        counts[kind] += 1
    return counts


def _line(rng: random.Random, kind: str, ref: str, prices_in_cents: bool) -> dict[str, Any]:
    cents = rng.randint(300, 4500)
    line: dict[str, Any] = {
        "ref": ref,
        "available": rng.randint(1, 20),
        "price": cents if prices_in_cents else cents / 100,
    }
    if kind == MISSING_REF:
        del line["ref"]
    elif kind == ZERO_AVAILABLE:
        line["available"] = 0
    elif kind == NEGATIVE_AVAILABLE:
        line["available"] = -rng.randint(1, 5)
    elif kind == MISSING_AVAILABLE:
        del line["available"]
    elif kind == MISSING_PRICE:
        del line["price"]
    return line


@dataclass
class LoggedRequest:
    siret: str
    path: str
    limit: int | None
    after: str | None
    modified_since: str | None
    authorization: str | None
    status: int = 0
    lines: int = 0


@dataclass
class _Failure:
    mode: str
    times: int | None
    page: int | None
    delay: float


@dataclass
class _Line:
    sort_ref: str  # the ref, or for a ref-less line the last ref before it (paging by `after` skips both together)
    payload: dict[str, Any]
    modified_at: datetime


@dataclass
class _Venue:
    lines: list[_Line] = field(default_factory=list)
    views: dict[datetime | None, tuple[list[str], list[dict[str, Any]]]] = field(default_factory=dict)

    def view(self, since: datetime | None) -> tuple[list[str], list[dict[str, Any]]]:
        """(keys, payloads) of the lines modified at/after `since`, cached until the next change."""
        if since not in self.views:
            kept = [line for line in self.lines if since is None or line.modified_at >= since]
            self.views[since] = ([line.sort_ref for line in kept], [line.payload for line in kept])
        return self.views[since]


_KEEP: Any = object()
_DELETE: Any = None


class FakeProvider:
    def __init__(self, *, token: str | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.requests: list[LoggedRequest] = []
        self._venues: dict[str, _Venue] = {}
        self._failures: list[_Failure] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- the feed ---------------------------------------------------------------------------------------------
    def add_venue(
        self, siret: str, lines: Iterable[Mapping[str, Any]], *, modified_at: datetime = GENERATED_AT
    ) -> None:
        """The venue's feed (replacing any): lines are served sorted by ref, ref-less ones staying where they are."""
        with self._lock:
            self._venues[siret] = _Venue(lines=_keyed([dict(line) for line in lines], modified_at))

    def update(
        self,
        siret: str,
        ref: str,
        *,
        available: Any = _KEEP,
        price: Any = _KEEP,
        at: datetime | None = None,
    ) -> None:
        """Changes (or adds) the line of `ref`, modified `at` (now by default). A value None removes the field."""
        moment = at or datetime.now(UTC)
        with self._lock:
            venue = self._venues.setdefault(siret, _Venue())
            found = next((line for line in venue.lines if line.payload.get("ref") == ref), None)
            if found is None:
                found = _Line(ref, {"ref": ref}, moment)
                venue.lines.insert(bisect.bisect_right([line.sort_ref for line in venue.lines], ref), found)
            for name, value in (("available", available), ("price", price)):
                if value is _DELETE:
                    found.payload.pop(name, None)
                elif value is not _KEEP:
                    found.payload[name] = value
            found.modified_at = moment
            venue.views.clear()

    def lines(self, siret: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(line.payload) for line in self._venues[siret].lines]

    # --- failures ---------------------------------------------------------------------------------------------
    def fail(self, mode: str, times: int | None = None, *, page: int | None = None, delay: float = 2.0) -> None:
        """The next `times` requests (all when None) — of page number `page` only, when given — fail as `mode`.
        `timeout` answers after `delay` seconds (set the client's timeout below it)."""
        if mode not in FAILURE_MODES:
            raise ValueError(f"unknown failure mode {mode!r}: one of {FAILURE_MODES}")
        with self._lock:
            self._failures.append(_Failure(mode, times, page, delay))

    def heal(self) -> None:
        with self._lock:
            self._failures.clear()

    # --- the server -------------------------------------------------------------------------------------------
    def start(self) -> str:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                provider._answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._stopping.clear()
        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-provider", daemon=True
        )
        self._thread.start()
        return self.base_url

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake provider is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{BASE_PATH}"

    def stop(self) -> None:
        self._stopping.set()  # wakes the requests sleeping in a `timeout` failure
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeProvider:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- one request ------------------------------------------------------------------------------------------
    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        query = {name: values[-1] for name, values in parse_qs(url.query).items()}
        base, _, siret = url.path.rstrip("/").rpartition("/")
        siret = unquote(siret) if base == BASE_PATH else ""  # another path than `base_url`'s: no venue there (404)
        logged = LoggedRequest(
            siret=siret,
            path=handler.path,
            limit=int(query["limit"]) if query.get("limit", "").isdigit() else None,
            after=query.get("after"),
            modified_since=query.get("modifiedSince"),
            authorization=handler.headers.get("Authorization"),
        )
        with self._lock:
            self.requests.append(logged)
        status, content_type, body = self._respond(logged)
        logged.status = status
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            return  # the client gave up (its timeout)

    def _respond(self, request: LoggedRequest) -> tuple[int, str, bytes]:
        if self.token is not None and request.authorization != f"Basic {self.token}":
            return _json(401, {"error": "unauthorized"})
        since: datetime | None = None
        if request.modified_since is not None:
            try:
                since = datetime.strptime(request.modified_since, MODIFIED_SINCE_FORMAT).replace(tzinfo=UTC)
            except ValueError:
                return _json(400, {"error": f"modifiedSince must be {MODIFIED_SINCE_FORMAT}"})
        limit = min(max(request.limit or 1000, 1), MAX_LIMIT)
        with self._lock:
            venue = self._venues.get(request.siret)
            if venue is None:
                return _json(404, {"error": f"unknown SIRET {request.siret}"})
            keys, payloads = venue.view(since)
            start = 0 if request.after is None else bisect.bisect_right(keys, request.after)
            failure = self._take_failure(1 + start // limit)
        mode = failure.mode if failure else None
        if mode == "timeout" and failure is not None:
            self._stopping.wait(failure.delay)
        elif mode == "http_500":
            return 500, "text/plain", b"Internal Server Error"
        elif mode == "html":
            return 200, "text/html", b"<!DOCTYPE html><html><body><h1>Maintenance</h1></body></html>"
        elif mode == "bad_shape":
            return _json(200, {"error": "maintenance", "stocks": None})
        elif mode == "same_page":
            start = 0
        elif mode == "never_ending":
            after = request.after or ""
            first = int(after) + 1 if after.isdigit() else 9790000000000
            stocks = [{"ref": str(first + n), "available": 1, "price": 10} for n in range(limit)]
            request.lines = len(stocks)
            return _json(200, {"stocks": stocks})
        end = _page_end(keys, start, limit)
        request.lines = end - start
        status, content_type, body = _json(200, {"stocks": payloads[start:end]})
        if mode == "truncated":
            body = body[: max(1, len(body) // 2)]
        return status, content_type, body

    def _take_failure(self, page: int) -> _Failure | None:
        for failure in self._failures:
            if failure.page is not None and failure.page != page:
                continue
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
            return failure
        return None


def _keyed(payloads: list[dict[str, Any]], modified_at: datetime) -> list[_Line]:
    """Sorted by ref, each ref-less line kept behind the ref before it (its paging key)."""
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    for payload in payloads:
        ref = payload.get("ref")
        key = "" if ref is None else str(ref).strip()
        if not key and groups:
            groups[-1][1].append(payload)
        else:
            groups.append((key, [payload]))
    groups.sort(key=lambda group: group[0])
    return [_Line(key, payload, modified_at) for key, members in groups for payload in members]


def _page_end(keys: list[str], start: int, limit: int) -> int:
    """`limit` lines, then the ones sharing the last line's key (a page never ends inside a ref's group)."""
    end = min(start + limit, len(keys))
    while end < len(keys) and (keys[end] == keys[end - 1] or not keys[end - 1]):
        end += 1
    return end


def _json(status: int, answer: Any) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(answer).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A fake bookshop stock provider on loopback, for local runs.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--siret", action="append", required=True, help="a venue's SIRET (repeatable)")
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--token")
    parser.add_argument("--cents", action="store_true", help="prices in cents")
    parser.add_argument("--catalogue", type=Path, help="write the feed's books as a catalogue CSV here")
    arguments = parser.parse_args(argv)
    provider = FakeProvider(token=arguments.token, host=arguments.host, port=arguments.port)
    feed = generate_feed(arguments.seed, arguments.size, prices_in_cents=arguments.cents)
    for siret in arguments.siret:
        provider.add_venue(siret, feed.lines)
    if arguments.catalogue:
        arguments.catalogue.write_text(feed.catalogue_csv(), encoding="utf-8")
    base_url = provider.start()
    print(base_url, flush=True)
    print(f"{len(feed.lines)} lines for {', '.join(arguments.siret)}: {json.dumps(feed.counts)}", file=sys.stderr)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        provider.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
