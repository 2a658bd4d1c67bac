"""The client of a bookshop stock software's API, called as the real platform calls it (domain.md, "Stock import"):

    GET {base}/{siret}?limit=1000&after={lastRef}&modifiedSince=%Y-%m-%dT%H:%M:%SZ
    Authorization: Basic <token>        (when the connection has a token, the token as given)

answered by `{"stocks": [{"ref", "available", "price"}, ...]}`, paged by `after` = the last line's `ref` of the previous
page, until a page has no stocks. The lines are returned raw: the import's rules judge them one by one.

Standard library only (urllib): the Lambda runtime has no `requests`. Redirects are not followed (the token would go
with them), only http(s) URLs are called, and the token never appears in an error.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from http.client import HTTPException
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from pass_culture.stock_import.rules import address_problem

MODIFIED_SINCE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
PAGE_SIZE = 1000
TIMEOUT_SECONDS = 60.0
CHECK_TIMEOUT_SECONDS = 10.0  # connecting happens inside an API call (API Gateway gives up after 29 s)
MAX_BODY_BYTES = 32 * 1024 * 1024  # a page of 1000 lines is ~100 kB
MAX_DETAIL = 300

TIMEOUT = "TIMEOUT"
UNREACHABLE = "UNREACHABLE"
HTTP_ERROR = "HTTP_ERROR"
NOT_JSON = "NOT_JSON"
BAD_SHAPE = "BAD_SHAPE"
REPEATED_PAGE = "REPEATED_PAGE"
TOO_MANY_PAGES = "TOO_MANY_PAGES"

RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class ProviderConnection:
    provider: str
    base_url: str
    token: str | None = None
    prices_in_cents: bool = False
    allow_loopback: bool = False  # the local stack's fake provider (settings: ALLOW_LOOPBACK_PROVIDERS)

    def __repr__(self) -> str:  # never the token, even in a traceback or a log line
        token = "***" if self.token else None
        return (
            f"ProviderConnection(provider={self.provider!r}, base_url={self.base_url!r}, token={token!r}, "
            f"prices_in_cents={self.prices_in_cents!r})"
        )


class ProviderError(Exception):
    """The provider could not give a page. `detail`: a short text of its answer, for the run's report and the 422."""

    def __init__(self, reason: str, detail: str, *, retryable: bool, status: int | None = None) -> None:
        self.reason = reason
        self.detail = _shorten(detail)
        self.retryable = retryable
        self.status = status
        super().__init__(f"{reason}: {self.detail}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is then raised as an HTTPError: reported, never followed with the token


def _peer_checked(connection_class: type[http.client.HTTPConnection], allow_loopback: bool) -> Any:
    """The connection class, refusing to talk once connected to an address that is not public: the check holds
    whatever the host name resolved to (a name pointing into our network, a decimal IP, DNS rebinding)."""

    class PeerChecked(connection_class):  # type: ignore[valid-type,misc]
        def connect(self) -> None:
            super().connect()
            problem = address_problem(str(self.sock.getpeername()[0]), allow_loopback=allow_loopback)
            if problem:
                self.sock.close()
                raise ProviderError(UNREACHABLE, f"refused to call {self.host}: {problem}", retryable=False)

    return PeerChecked


class _PeerCheckedHttp(urllib.request.HTTPHandler):
    def __init__(self, allow_loopback: bool) -> None:
        super().__init__()
        self._connection = _peer_checked(http.client.HTTPConnection, allow_loopback)

    def http_open(self, req: Any) -> Any:
        return self.do_open(self._connection, req)


class _PeerCheckedHttps(urllib.request.HTTPSHandler):
    def __init__(self, allow_loopback: bool) -> None:
        super().__init__()
        self._connection = _peer_checked(http.client.HTTPSConnection, allow_loopback)

    def https_open(self, req: Any) -> Any:
        return self.do_open(self._connection, req, context=self._context)  # type: ignore[attr-defined]


@cache
def _opener(allow_loopback: bool) -> urllib.request.OpenerDirector:
    """No redirects followed, no environment proxies, every connection's peer address checked."""
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        _NoRedirect(),
        _PeerCheckedHttp(allow_loopback),
        _PeerCheckedHttps(allow_loopback),
    )


def page_url(base_url: str, siret: str, *, limit: int, after: str | None, modified_since: datetime | None) -> str:
    scheme = urlsplit(base_url).scheme.lower()
    if scheme not in ("http", "https"):
        raise ProviderError(UNREACHABLE, f"the base URL must be http(s), not '{scheme}'", retryable=False)
    params: dict[str, str] = {"limit": str(limit)}
    if after is not None:
        params["after"] = after
    if modified_since is not None:
        params["modifiedSince"] = format_modified_since(modified_since)
    return f"{base_url.rstrip('/')}/{quote(siret.strip(), safe='')}?{urlencode(params)}"


def format_modified_since(moment: datetime) -> str:
    """In UTC; a naive datetime is taken as UTC already."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.strftime(MODIFIED_SINCE_FORMAT)


def fetch_page(
    connection: ProviderConnection,
    siret: str,
    *,
    after: str | None,
    modified_since: datetime | None,
    limit: int = PAGE_SIZE,
    timeout: float = TIMEOUT_SECONDS,
    opener: urllib.request.OpenerDirector | None = None,
) -> list[Any]:
    """One GET: the page's raw lines (possibly empty). Raises ProviderError."""
    url = page_url(connection.base_url, siret, limit=limit, after=after, modified_since=modified_since)
    headers = {"Accept": "application/json", "User-Agent": "pass-culture-stock-import"}
    if connection.token:
        headers["Authorization"] = f"Basic {connection.token}"
    request = urllib.request.Request(url, headers=headers, method="GET")  # noqa: S310 (scheme checked above)
    try:
        with (opener or _opener(connection.allow_loopback)).open(request, timeout=timeout) as response:
            body = response.read(MAX_BODY_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise _http_error(error, connection.token) from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise _timeout(timeout) from None
        raise ProviderError(UNREACHABLE, _scrub(str(error.reason), connection.token), retryable=True) from None
    except TimeoutError:  # socket.timeout is TimeoutError: no answer, or the body stopped coming
        raise _timeout(timeout) from None
    except (OSError, HTTPException) as error:  # reset, remote disconnected, incomplete read
        detail = f"{type(error).__name__}: {error}"
        raise ProviderError(UNREACHABLE, _scrub(detail, connection.token), retryable=True) from None
    if len(body) > MAX_BODY_BYTES:
        raise ProviderError(BAD_SHAPE, f"answer larger than {MAX_BODY_BYTES} bytes", retryable=False)
    return _stocks(body, connection.token)


def pages(
    connection: ProviderConnection,
    siret: str,
    *,
    after: str | None = None,
    modified_since: datetime | None = None,
    limit: int = PAGE_SIZE,
    retries: int = 3,
    sleep: Callable[[float], None] = time.sleep,
    max_pages: int = 10_000,
    timeout: float = TIMEOUT_SECONDS,
    opener: urllib.request.OpenerDirector | None = None,
) -> Iterator[tuple[list[Any], str]]:
    """Yields (lines, cursor) for each non-empty page until an empty one; `cursor` is the `after` of the next page
    (checkpoint it once the page is applied; pass it back as `after` to resume).

    The cursor is the last line's `ref` (the last line that has one: a page without any ref cannot be paged, BAD_SHAPE).
    A retryable failure is retried `retries` times, sleeping 1, 2, 4… s, then raised. A provider that loops (a page
    whose last ref is not after the previous cursor) raises REPEATED_PAGE; one that never ends raises TOO_MANY_PAGES
    when a page past `max_pages` still has stocks.
    """
    cursor = after
    previous: list[Any] | None = None
    served = 0
    while True:
        lines = _fetch_with_retries(
            connection,
            siret,
            after=cursor,
            modified_since=modified_since,
            limit=limit,
            retries=retries,
            sleep=sleep,
            timeout=timeout,
            opener=opener,
        )
        if not lines:
            return
        if served >= max_pages:
            raise ProviderError(TOO_MANY_PAGES, f"still stocks after {max_pages} pages", retryable=False)
        if previous is not None and lines == previous:
            raise ProviderError(REPEATED_PAGE, f"the same page twice (after={cursor})", retryable=False)
        next_cursor = _last_ref(lines)
        if next_cursor is None:
            raise ProviderError(BAD_SHAPE, "a page without any 'ref' to page after", retryable=False)
        if cursor is not None and not _is_after(next_cursor, cursor):
            raise ProviderError(
                REPEATED_PAGE, f"a page ending at ref {next_cursor}, not after {cursor}", retryable=False
            )
        served += 1
        previous = lines
        cursor = next_cursor
        yield lines, next_cursor


def check_connection(
    connection: ProviderConnection,
    siret: str,
    *,
    timeout: float = CHECK_TIMEOUT_SECONDS,
    opener: urllib.request.OpenerDirector | None = None,
) -> None:
    """`GET {base}/{siret}?limit=1`, once: raises ProviderError when the provider does not know the SIRET (4xx), does
    not answer, or answers something else than a page of stocks."""
    fetch_page(connection, siret, after=None, modified_since=None, limit=1, timeout=timeout, opener=opener)


def _fetch_with_retries(
    connection: ProviderConnection,
    siret: str,
    *,
    retries: int,
    sleep: Callable[[float], None],
    **page: Any,
) -> list[Any]:
    attempt = 0
    while True:
        try:
            return fetch_page(connection, siret, **page)
        except ProviderError as error:
            if not error.retryable or attempt >= retries:
                raise
        sleep(float(2**attempt))
        attempt += 1


def _stocks(body: bytes, token: str | None) -> list[Any]:
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        snippet = body[:200].decode("utf-8", errors="replace")
        raise ProviderError(NOT_JSON, _scrub(f"not JSON: {snippet}", token), retryable=True) from None
    stocks = answer.get("stocks") if isinstance(answer, dict) else None
    if not isinstance(stocks, list):
        snippet = json.dumps(answer, ensure_ascii=False)[:200]
        raise ProviderError(BAD_SHAPE, _scrub(f'no "stocks" list: {snippet}', token), retryable=False)
    return stocks


def _http_error(error: urllib.error.HTTPError, token: str | None) -> ProviderError:
    try:
        body = error.read(2000).decode("utf-8", errors="replace")
    except (OSError, HTTPException):
        body = ""
    finally:
        error.close()
    detail = f"HTTP {error.code}: {body}" if body.strip() else f"HTTP {error.code} {error.reason}"
    retryable = error.code in RETRYABLE_STATUSES or error.code >= 500
    return ProviderError(HTTP_ERROR, _scrub(detail, token), retryable=retryable, status=error.code)


def _timeout(timeout: float) -> ProviderError:
    return ProviderError(TIMEOUT, f"no answer within {timeout:g} s", retryable=True)


def _last_ref(lines: list[Any]) -> str | None:
    for line in reversed(lines):
        ref = line.get("ref") if isinstance(line, dict) else None
        if isinstance(ref, str | int) and not isinstance(ref, bool) and str(ref).strip():
            return str(ref).strip()
    return None


def _is_after(ref: str, cursor: str) -> bool:
    """EANs are 13 digits, where text and number orders agree; refs of other shapes compare as text."""
    if ref.isdigit() and cursor.isdigit():
        return int(ref) > int(cursor)
    return ref > cursor


def _scrub(text: str, token: str | None) -> str:
    return text.replace(token, "***") if token else text


def _shorten(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_DETAIL else flat[: MAX_DETAIL - 1] + "…"
