"""Stock import use cases (domain.md, "Stock import"): connect a venue to its stock software, apply a provider's
feed page by page (checkpointed, resumable, stopped before the Lambda deadline), and the direct push.

The provider is reached through an injected `Feed` (`feed(after, modified_since)` yields `(raw_lines, cursor)`): the
worker builds it from `stock_import.provider.pages`; tests give an in-memory feed.

Round trips per page: one BatchGetItem per 100 EANs of the catalogue, one per 100 of the import's own offers (their
ids derive from the venue and the EAN: `imported_offer_id`), then the changed lines' operations grouped into
TransactWriteItems of up to 100 operations (a line is 2 operations: the offer and its stock, together), then the
checkpoint. An unchanged line (the provider's raw `available` and price, kept on the offer item, are those of the
feed) writes nothing. The import manages its own offers only: an offer a pro created by hand is left as it is.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from pass_culture.accounts.models import Venue
from pass_culture.clock import Clock
from pass_culture.dynamo import Operation, Throttled, TransactionCancelled
from pass_culture.geo import encode
from pass_culture.ids import new_id
from pass_culture.offers.models import BookInfo, Offer, Stock, VenueSnapshot
from pass_culture.offers.rules import book_ineligibility
from pass_culture.stock_import.models import (
    PUSH_PROVIDER,
    ImportReport,
    ImportStatus,
    ImportVenue,
    StockProviderConnection,
)
from pass_culture.stock_import.repository import ImportedOffer, StockImportRepository
from pass_culture.stock_import.rules import FeedLine, read_line

Feed = Callable[[str | None, datetime | None], Iterable[tuple[Sequence[Any], str | None]]]

UNKNOWN_BOOK = "UNKNOWN_BOOK"
INELIGIBLE_BOOK = "INELIGIBLE_BOOK"
MISSING_PRICE = "MISSING_PRICE"  # the line has none, and neither has the catalogue
DUPLICATE_REF = "DUPLICATE_REF"  # the same EAN again in a page: the last line counts
WRITE_CONFLICT = "WRITE_CONFLICT"  # the offer or stock changed under the import (e.g. deleted): left as it is
BOOK_SUBCATEGORY = "LIVRE_PAPIER"
MAX_TRANSACTION_OPERATIONS = 100
PUSH_PAGE = 1000  # a push is applied in pages as a feed is (bounded reads and memory)
RETRIED_CODES = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
RETRIED_ERRORS = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionInProgressException",
}
MAX_ATTEMPTS = 6
IMPORT_ID_NAMESPACE = uuid.UUID("6f1c1c3e-5d7a-4a43-9c39-3f2f8e0b7a51")


class VenueNotConnected(Exception):
    """The venue was disconnected (or deleted) after the day's fan-out: nothing to import."""


def imported_offer_id(venue_id: str, ean: str) -> str:
    """The import's offer for a venue and an EAN has a stable id: a page applied twice (a worker killed between its
    writes and its checkpoint) finds its offer again, and never creates a second one."""
    return uuid.uuid5(IMPORT_ID_NAMESPACE, f"{venue_id}#{ean}").hex


class StockImporter:
    def __init__(
        self, repository: StockImportRepository, clock: Clock, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._repository = repository
        self._clock = clock
        self._sleep = sleep

    # -- connection ----------------------------------------------------------------------------------------------
    def connect(
        self, venue_id: str, provider: str, base_url: str, token: str | None, prices_in_cents: bool, now: datetime
    ) -> StockProviderConnection:
        """Stores the connection (the caller has checked it with the provider first)."""
        connection = StockProviderConnection(
            provider=provider, base_url=base_url, token=token, prices_in_cents=prices_in_cents, connected_at=now
        )
        self._repository.connect(venue_id, connection)
        return connection

    def disconnect(self, venue_id: str) -> None:
        self._repository.disconnect(venue_id)

    def connected_venues(self) -> list[str]:
        return self._repository.connected_venues()

    def venue(self, venue_id: str) -> ImportVenue | None:
        """The venue as an import reads it: the venue, its connection, the start of its last successful run."""
        return self._repository.import_venue(venue_id)

    def reports(self, venue_id: str, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        reports, next_cursor = self._repository.reports(venue_id, limit, cursor)
        return {"items": [report.to_api() for report in reports], "nextCursor": next_cursor}

    # -- a provider's run ----------------------------------------------------------------------------------------
    def run(
        self,
        venue_id: str,
        now: datetime,
        feed: Feed,
        deadline_reached: Callable[[], bool],
        *,
        last_attempt: bool = True,
    ) -> ImportReport:
        """Applies the feed page by page, checkpointing after each. Resumes the venue's unfinished run (RUNNING,
        same provider) from its cursor with its counts, else starts one with `modifiedSince` = the start of the last
        successful run. Returns with status RUNNING when `deadline_reached()` after a page (the worker re-queues
        itself). Any exception is raised again, so the message is retried, then dead-lettered. A provider failure
        (an exception with `.reason`) on the `last_attempt` marks the run FAILED (the venue is emailed once);
        before that the run stays RUNNING at its checkpoint and the retry resumes it."""
        state = self._repository.import_venue(venue_id)
        if state is None or state.connection is None:
            raise VenueNotConnected(venue_id)
        connection = state.connection
        report = self._repository.latest_report(venue_id)
        if report is None or report.status != ImportStatus.RUNNING or report.provider != connection.provider:
            if report is not None and report.status == ImportStatus.RUNNING:
                self._end(report, failure="ABANDONED", detail="The venue was connected to another provider.")
            report = ImportReport(
                run_id=new_id(),
                venue_id=venue_id,
                provider=connection.provider,
                venue_name=state.venue.name,
                notify_email=state.venue.booking_email,
                started_at=self._clock.now(),  # the real start: reports sort by it
                modified_since=state.last_import_started_at,
            )
            self._repository.save_checkpoint(report)
        try:
            for raw_lines, cursor in feed(report.after, report.modified_since):
                self.apply_page(state.venue, raw_lines, connection.prices_in_cents, report, now)
                report.pages += 1
                report.after = cursor
                self._repository.save_checkpoint(report)
                if deadline_reached():
                    return report
        except Exception as error:
            reason = getattr(error, "reason", None)
            if reason is not None and last_attempt:
                self._end(report, failure=str(reason), detail=str(getattr(error, "detail", "") or error))
            raise
        self._end(report)
        return report

    def push(self, venue: Venue, raw_lines: Sequence[Any], prices_in_cents: bool, now: datetime) -> ImportReport:
        """The direct push: the same rules, one report (provider "push"). Applied in pages of `PUSH_PAGE` lines
        (bounded reads and memory), in ref order as a provider's feed."""
        report = ImportReport(
            run_id=new_id(),
            venue_id=venue.id,
            provider=PUSH_PROVIDER,
            venue_name=venue.name,
            notify_email=venue.booking_email,
            started_at=now,
        )
        ordered = sorted(raw_lines, key=_ref_order)
        for start in range(0, len(ordered), PUSH_PAGE):
            self.apply_page(venue, ordered[start : start + PUSH_PAGE], prices_in_cents, report, now)
            report.pages += 1
        self._end(report)
        return report

    def _end(self, report: ImportReport, failure: str | None = None, detail: str | None = None) -> None:
        ended_at = self._clock.now()
        report.ended_at = ended_at
        report.duration_ms = max(0, int((ended_at - report.started_at).total_seconds() * 1000))
        if failure is not None:
            report.status, report.failure, report.failure_detail = ImportStatus.FAILED, failure, (detail or "")[:1000]
        else:
            report.status = ImportStatus.PARTIAL if report.rejected_count else ImportStatus.SUCCESS
        successful = failure is None and report.provider != PUSH_PROVIDER
        self._repository.finish(report, successful_start=report.started_at if successful else None)

    # -- one page ------------------------------------------------------------------------------------------------
    def apply_page(
        self, venue: Venue, raw_lines: Sequence[Any], prices_in_cents: bool, report: ImportReport, now: datetime
    ) -> None:
        """Judges each line, reads the page's books and the venue's offers for them, writes the changed lines."""
        report.read += len(raw_lines)
        lines: dict[str, tuple[Any, FeedLine]] = {}
        for raw in raw_lines:
            judged = read_line(raw, prices_in_cents=prices_in_cents)
            if not isinstance(judged, FeedLine):
                report.reject(raw, judged.value)
                continue
            if judged.ean in lines:
                report.reject(lines[judged.ean][0], DUPLICATE_REF)
            lines[judged.ean] = (raw, judged)
        if not lines:
            return
        eans = sorted(lines)
        books = self._repository.books(eans)
        existing = self._repository.imported_offers({ean: imported_offer_id(venue.id, ean) for ean in eans})
        writes: list[tuple[Any, str, list[Operation]]] = []  # (raw line, outcome, its operations)
        creations: list[tuple[Any, BookInfo, int, int]] = []  # (raw line, book, available, price): new offers
        for ean in eans:
            raw, line = lines[ean]
            book = books.get(ean)
            if book is None:
                report.reject(raw, UNKNOWN_BOOK)
                continue
            if book_ineligibility(book.clil):
                report.reject(raw, INELIGIBLE_BOOK)
                continue
            price = line.price_cents if line.price_cents is not None else book.price_cents
            if price is None:
                report.reject(raw, MISSING_PRICE)
                continue
            offer = existing.get(ean)
            if offer is None:
                if line.available == 0:
                    report.skipped += 1
                    continue
                creations.append((raw, book, line.available, price))
            elif (
                offer.stock_id is not None
                and offer.provider_available == line.available
                and offer.provider_price_cents == price
            ):
                report.unchanged += 1
            else:
                writes.append((raw, "updated", self._update(offer, line.available, price, now)))
        first = self._repository.reserve_public_ids(len(creations)) if creations else 0  # one call a page
        for n, (raw_line, new_book, available, new_price) in enumerate(creations):
            writes.append((raw_line, "created", self._create(venue, new_book, available, new_price, now, first + n)))
        self._write(writes, report)

    def _create(
        self, venue: Venue, book: BookInfo, available: int, price_cents: int, now: datetime, public_id: int
    ) -> list[Operation]:
        offer_id = imported_offer_id(venue.id, book.ean)
        stock = _stock(offer_id, available, price_cents, now)
        offer = Offer(
            id=offer_id,
            public_id=public_id,
            venue_id=venue.id,
            offerer_id=venue.offerer_id,
            name=book.title[:140],
            subcategory_id=BOOK_SUBCATEGORY,
            ean=book.ean,
            book=BookInfo.model_validate(book.to_api()),
            venue=VenueSnapshot.model_validate(venue.to_api()),
            geohash=encode(venue.latitude, venue.longitude),
            stock_ids=[stock.id],
            created_at=now,
            updated_at=now,
        )
        return self._repository.create_operations(offer, stock, available, price_cents)

    def _update(self, offer: ImportedOffer, available: int, price_cents: int, now: datetime) -> list[Operation]:
        new_stock = None if offer.stock_id else _stock(offer.offer_id, available, price_cents, now)
        return self._repository.update_operations(offer, new_stock, available, price_cents, now)

    def _write(self, writes: list[tuple[Any, str, list[Operation]]], report: ImportReport) -> None:
        """Lines grouped into transactions of up to 100 operations (a line's operations never split)."""
        group: list[tuple[Any, str, list[Operation]]] = []
        size = 0
        for write in writes:
            if group and size + len(write[2]) > MAX_TRANSACTION_OPERATIONS:
                self._commit(group, report)
                group, size = [], 0
            group.append(write)
            size += len(write[2])
        if group:
            self._commit(group, report)

    def _commit(self, group: list[tuple[Any, str, list[Operation]]], report: ImportReport) -> None:
        """One transaction, retried with backoff on conflicts and throttling. A line whose condition failed (its
        offer or stock deleted, or created meanwhile) is left out, counted as WRITE_CONFLICT, and the rest retried."""
        attempt = 0
        while group:
            operations = [operation for _, _, ops in group for operation in ops]
            try:
                self._repository.transact(operations)
            except Throttled:  # cancelled for capacity: nothing written, the same group again after a wait
                if attempt + 1 >= MAX_ATTEMPTS:
                    raise
                attempt = self._backoff(attempt)
                continue
            except TransactionCancelled as cancelled:
                failed = set(cancelled.failed_positions())
                if failed:
                    kept = []
                    position = 0
                    for write in group:
                        positions = set(range(position, position + len(write[2])))
                        position += len(write[2])
                        if positions & failed:
                            report.reject(write[0], WRITE_CONFLICT)
                        else:
                            kept.append(write)
                    group = kept
                    continue
                codes = {reason.get("Code") for reason in cancelled.reasons}
                if not codes & RETRIED_CODES or attempt + 1 >= MAX_ATTEMPTS:
                    raise
                attempt = self._backoff(attempt)
                continue
            except Exception as error:  # botocore's ClientError, imported where used elsewhere (cold start)
                code = getattr(error, "response", {}).get("Error", {}).get("Code")
                if code not in RETRIED_ERRORS or attempt + 1 >= MAX_ATTEMPTS:
                    raise
                attempt = self._backoff(attempt)
                continue
            for _, outcome, _ in group:
                setattr(report, outcome, getattr(report, outcome) + 1)
            return

    def _backoff(self, attempt: int) -> int:
        self._sleep(min(2.0, 0.05 * 2**attempt))
        return attempt + 1


def _stock(offer_id: str, available: int, price_cents: int, now: datetime) -> Stock:
    return Stock(
        id=f"{offer_id}.{offer_id[:12]}",
        offer_id=offer_id,
        price_cents=price_cents,
        quantity=available,
        created_at=now,
    )


def _ref_order(raw: Any) -> str:
    ref = raw.get("ref") if isinstance(raw, dict) else None
    return "" if ref is None else str(ref).strip()


def build_stock_importer() -> StockImporter:
    """The importer as a Lambda instance uses it: the table and the system clock."""
    from pass_culture import aws
    from pass_culture.clock import SystemClock
    from pass_culture.dynamo import Table
    from pass_culture.settings import get_settings

    return StockImporter(StockImportRepository(Table(aws.dynamodb(), get_settings().table_name)), SystemClock())
