"""One venue's import, as the worker runs it: its provider's feed, page by page from the run's checkpoint; the
venue re-queued when the function's deadline nears."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from pass_culture.stock_import.models import ImportStatus
from pass_culture.stock_import.provider import ProviderConnection, pages
from pass_culture.stock_import.queue import ImportQueue, ImportRequest
from pass_culture.stock_import.service import StockImporter, VenueNotConnected


def import_venue(
    importer: StockImporter,
    queue: ImportQueue,
    request: ImportRequest,
    *,
    deadline_reached: Callable[[], bool],
    last_attempt: bool = True,
    allow_loopback: bool = False,
    feed_pages: Callable[..., Iterator[tuple[list[Any], str]]] = pages,
) -> dict[str, Any]:
    """The run's report. A provider failure is raised (the message is retried, then dead-lettered; the run is
    marked FAILED on the `last_attempt` only); a venue that is no longer connected, or has no SIRET, is done with
    nothing to import."""
    state = importer.venue(request.venue_id)
    if state is None or state.connection is None or not state.venue.siret:
        return {"venueId": request.venue_id, "status": "NOT_CONNECTED"}
    stored = state.connection
    connection = ProviderConnection(
        stored.provider, stored.base_url, stored.token, stored.prices_in_cents, allow_loopback=allow_loopback
    )
    siret = state.venue.siret

    def feed(after: str | None, modified_since: datetime | None) -> Iterator[tuple[list[Any], str]]:
        return feed_pages(connection, siret, after=after, modified_since=modified_since)

    try:
        report = importer.run(request.venue_id, request.time, feed, deadline_reached, last_attempt=last_attempt)
    except VenueNotConnected:
        return {"venueId": request.venue_id, "status": "NOT_CONNECTED"}
    if report.status == ImportStatus.RUNNING:
        queue.send([request.venue_id], request.time)  # the next invocation resumes from the checkpoint
    return report.to_api()
