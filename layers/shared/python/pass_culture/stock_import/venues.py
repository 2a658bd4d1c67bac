"""The stock import as the pro portal and venue software use it: connect a venue to its provider (checked with the
provider first), disconnect it, push lines directly, read the runs' reports. The gate (`@allow(member_of=...)`)
has already checked that the caller belongs to the venue's offerer."""

from __future__ import annotations

from typing import Any

from pass_culture.clock import Clock
from pass_culture.errors import NotFound, PayloadTooLarge, RuleRefused
from pass_culture.stock_import.models import MAX_PUSHED_ROWS, ImportVenue, StockProviderInput, StockPushInput
from pass_culture.stock_import.provider import ProviderConnection, ProviderError, check_connection
from pass_culture.stock_import.rules import provider_url_problem
from pass_culture.stock_import.service import StockImporter


class StockImportVenues:
    def __init__(
        self, importer: StockImporter, clock: Clock, *, allow_loopback_providers: bool, check: Any = check_connection
    ) -> None:
        self._importer = importer
        self._clock = clock
        self._allow_loopback = allow_loopback_providers
        self._check = check  # the provider's answer to `?limit=1` (injectable in tests)

    def _venue(self, venue_id: str) -> ImportVenue:
        found = self._importer.venue(venue_id)
        if found is None:
            raise NotFound("No such venue.", code="VENUE_NOT_FOUND")
        return found

    def connect(self, venue_id: str, data: StockProviderInput) -> dict[str, Any]:
        """`PUT /venues/{venueId}/stock-provider`: the provider must know the venue's SIRET (one call, `?limit=1`)."""
        venue = self._venue(venue_id).venue
        if not venue.siret:
            raise RuleRefused(
                "A venue without SIRET cannot be synchronised: its stock software knows shops by their SIRET.",
                code="VENUE_WITHOUT_SIRET",
            )
        problem = provider_url_problem(data.base_url, allow_loopback=self._allow_loopback)
        if problem:
            raise RuleRefused(problem, code="PROVIDER_URL_REFUSED", details=[{"field": "baseUrl"}])
        connection = ProviderConnection(
            data.provider.value, data.base_url, data.token, data.prices_in_cents, allow_loopback=self._allow_loopback
        )
        try:
            self._check(connection, venue.siret)
        except ProviderError as error:
            raise RuleRefused(
                f"The provider did not accept the SIRET {venue.siret}: {error.detail or error.reason}",
                code="PROVIDER_REFUSED",
                details=[{"reason": error.reason, "status": error.status, "answer": error.detail}],
            ) from None
        stored = self._importer.connect(
            venue_id, data.provider.value, data.base_url, data.token, data.prices_in_cents, self._clock.now()
        )
        answer = stored.to_api()
        answer.pop("token", None)  # a secret: never answered back
        return {**answer, "venueId": venue_id, "hasToken": bool(data.token)}

    def disconnect(self, venue_id: str) -> None:
        """The daily import stops; the offers stay as they are."""
        self._venue(venue_id)
        self._importer.disconnect(venue_id)

    def push(self, venue_id: str, data: StockPushInput) -> dict[str, Any]:
        """`POST /venues/{venueId}/stocks/import`: the provider format, applied now, answered with the report."""
        if len(data.stocks) > MAX_PUSHED_ROWS:
            raise PayloadTooLarge(
                f"At most {MAX_PUSHED_ROWS} lines a push ({len(data.stocks)} sent): split it.",
                details=[{"field": "stocks", "maxLines": MAX_PUSHED_ROWS}],
            )
        state = self._venue(venue_id)
        prices_in_cents = bool(state.connection and state.connection.prices_in_cents)
        return self._importer.push(state.venue, data.stocks, prices_in_cents, self._clock.now()).to_api()

    def reports(self, venue_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
        """The runs' reports, newest first, and the venue's connection as it stands (null when not connected): the
        portal shows whether the daily import runs and from which software. Never the token: only whether there is
        one."""
        state = self._venue(venue_id)
        connection = None
        if state.connection is not None:
            connection = state.connection.to_api()
            connection["hasToken"] = bool(connection.pop("token", None))
        return {**self._importer.reports(venue_id, limit, cursor), "connection": connection}


def build_stock_import_venues() -> StockImportVenues:
    from pass_culture.clock import SystemClock
    from pass_culture.settings import get_settings
    from pass_culture.stock_import.service import build_stock_importer

    return StockImportVenues(
        build_stock_importer(), SystemClock(), allow_loopback_providers=get_settings().allow_loopback_providers
    )
