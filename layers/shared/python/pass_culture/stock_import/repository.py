"""The stock import in the table (docs/data-model.md, patterns 15, 29 and the import reports). The only code of the
import that knows keys: the connection on the venue item, the catalogue's books, the import's own offers (read by
their ids) and the stocks it writes, and the runs' reports (`VENUE#<venueId>` / `IMPORT#<startedAt>#<runId>`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pass_culture.accounts.repository import venue_key
from pass_culture.clock import isoformat
from pass_culture.dynamo import (
    GSI2,
    ITEM_EXISTS,
    ITEM_IS_NEW,
    ConditionFailed,
    Expression,
    Item,
    Operation,
    Put,
    Table,
    TransactionCancelled,
    Update,
    key,
)
from pass_culture.offers.models import Offer, Stock
from pass_culture.offers.repository import _geo_keys, _index_keys, book_key, offer_key, stock_item, stock_key
from pass_culture.stock_import.models import (
    CatalogueBook,
    ImportReport,
    ImportStatus,
    ImportVenue,
    StockProviderConnection,
)

CONNECTED_VENUES = "STOCK_PROVIDERS"
REPORT_PREFIX = "IMPORT#"


class RunSuperseded(Exception):
    """Another worker has taken this run further (a duplicate SQS delivery): this one stops."""


@dataclass(frozen=True)
class ImportedOffer:
    """One of the import's existing offers: enough to judge a line without another read."""

    offer_id: str
    ean: str
    stock_id: str | None  # the stock the import keeps (the first one); None: the offer has none yet
    provider_available: int | None
    provider_price_cents: int | None
    is_active: bool = True


def report_key(venue_id: str, started_at: datetime, run_id: str) -> Item:
    return key(f"VENUE#{venue_id}", f"{REPORT_PREFIX}{isoformat(started_at)}#{run_id}")


def _report_item(report: ImportReport) -> Item:
    return {
        **report_key(report.venue_id, report.started_at, report.run_id),
        "entity": "STOCK_IMPORT",
        **report.to_api(),
    }


class StockImportRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    # -- connection (on the venue item) --------------------------------------------------------------------------
    def connect(self, venue_id: str, connection: StockProviderConnection) -> None:
        """Listed in GSI2 `STOCK_PROVIDERS` while connected. A new connection starts from a full import (no
        `modifiedSince`): another provider's last run says nothing of this one's feed."""
        self._table.update(
            venue_key(venue_id),
            Expression(
                "SET stockProvider = :connection, GSI2PK = :pk, GSI2SK = :sk REMOVE lastImportStartedAt",
                values={":connection": connection.to_api(), ":pk": CONNECTED_VENUES, ":sk": f"VENUE#{venue_id}"},
            ),
            condition=ITEM_EXISTS,
        )

    def disconnect(self, venue_id: str) -> None:
        """Stops the daily import; the offers stay as they are."""
        self._table.update(
            venue_key(venue_id),
            Expression("REMOVE stockProvider, GSI2PK, GSI2SK, lastImportStartedAt"),
            condition=ITEM_EXISTS,
        )

    def connected_venues(self) -> list[str]:
        """Pattern 29: one Query of GSI2 (paged past 1 MB), never a Scan."""
        items = self._table.query_all(CONNECTED_VENUES, index=GSI2)
        return [item["GSI2SK"].removeprefix("VENUE#") for item in items]

    def import_venue(self, venue_id: str) -> ImportVenue | None:
        item = self._table.get(venue_key(venue_id))
        if item is None:
            return None
        return ImportVenue.model_validate(
            {
                "venue": item,
                "connection": item.get("stockProvider"),
                "lastImportStartedAt": item.get("lastImportStartedAt"),
            }
        )

    # -- reads of one page ---------------------------------------------------------------------------------------
    def books(self, eans: list[str]) -> dict[str, CatalogueBook]:
        """Pattern 15: the catalogue's books, BatchGetItem of 100 keys a round trip."""
        return {
            item["ean"]: CatalogueBook.model_validate(item)
            for item in self._table.batch_get([book_key(e) for e in eans])
        }

    def imported_offers(self, offer_ids: Mapping[str, str]) -> dict[str, ImportedOffer]:
        """The import's own offers for a page's EANs (`{ean: offer id}`, the ids the import derives from the venue
        and the EAN), BatchGetItem of 100 keys a round trip: the cost follows the page, not the venue's catalogue (a
        nightly page of 40 changed lines reads 40 offers). An offer a pro created by hand is never among them."""
        items = self._table.batch_get([offer_key(offer_id) for offer_id in offer_ids.values()])
        found: dict[str, ImportedOffer] = {}
        for item in items:
            stock_ids = item.get("stockIds") or []
            found[item["ean"]] = ImportedOffer(
                offer_id=item["id"],
                ean=item["ean"],
                stock_id=stock_ids[0] if stock_ids else None,
                provider_available=item.get("providerAvailable"),
                provider_price_cents=item.get("providerPriceCents"),
                is_active=bool(item.get("isActive", True)),
            )
        return found

    def reserve_public_ids(self, count: int) -> int:
        from pass_culture.offers.repository import reserve_public_ids

        return reserve_public_ids(self._table, count)

    # -- the operations of one line (written by `transact`, grouped by the use case) -----------------------------
    @staticmethod
    def create_operations(offer: Offer, stock: Stock, available: int, price_cents: int) -> list[Operation]:
        item = {
            **offer_key(offer.id),
            "entity": "OFFER",
            **_index_keys(offer),
            **offer.to_api(),
            "providerAvailable": available,
            "providerPriceCents": price_cents,
        }
        if offer.is_active:
            item.update(_geo_keys(offer))
        return [
            Put(item, ITEM_IS_NEW),
            Put(stock_item(stock, offer.is_active), ITEM_IS_NEW),
        ]

    @staticmethod
    def update_operations(
        existing: ImportedOffer, new_stock: Stock | None, available: int, price_cents: int, now: datetime
    ) -> list[Operation]:
        """The stock's quantity is computed by DynamoDB from what is booked *at the write*
        (`quantity = bookedQuantity + available`): a booking made during the import is never lost, and the quantity
        is never below booked by construction. `new_stock`: the offer had no stock, the import adds it."""
        values: dict[str, Any] = {":a": available, ":p": price_cents, ":at": isoformat(now)}
        offer_set = "SET providerAvailable = :a, providerPriceCents = :p, updatedAt = :at"
        operations: list[Operation] = []
        if new_stock is not None:
            offer_set += ", stockIds = list_append(if_not_exists(stockIds, :none), :new)"
            values.update({":none": [], ":new": [new_stock.id]})
            operations.append(Put(stock_item(new_stock, existing.is_active), ITEM_IS_NEW))
        else:
            assert existing.stock_id is not None
            operations.append(
                Update(
                    stock_key(existing.stock_id),
                    Expression(
                        "SET quantity = if_not_exists(bookedQuantity, :zero) + :a, priceCents = :p",
                        values={":zero": 0, ":a": available, ":p": price_cents},
                    ),
                    ITEM_EXISTS,
                )
            )
        operations.insert(0, Update(offer_key(existing.offer_id), Expression(offer_set, values=values), ITEM_EXISTS))
        return operations

    def transact(self, operations: list[Operation]) -> None:
        self._table.transact(operations)

    # -- reports -------------------------------------------------------------------------------------------------
    def save_checkpoint(self, report: ImportReport) -> None:
        """The whole report, after each page: a restarted worker resumes from `after` with the same counts. Refused
        when another worker took the run further (or ended it): `RunSuperseded`."""
        try:
            self._table.put(
                _report_item(report),
                condition=Expression(
                    "attribute_not_exists(#pk) OR (#status = :running AND pages <= :pages)",
                    {"#pk": "PK", "#status": "status"},
                    {":running": ImportStatus.RUNNING.value, ":pages": report.pages},
                ),
            )
        except ConditionFailed as error:
            raise RunSuperseded(report.run_id) from error

    def finish(self, report: ImportReport, *, successful_start: datetime | None) -> None:
        """The ended report; with `successful_start`, the venue's `lastImportStartedAt` in the same transaction
        (the next run's `modifiedSince`)."""
        running = Expression(
            "attribute_not_exists(#pk) OR #status = :running",
            {"#pk": "PK", "#status": "status"},
            {":running": ImportStatus.RUNNING.value},
        )
        operations: list[Operation] = [Put(_report_item(report), running)]
        if successful_start is not None:
            operations.append(
                Update(
                    venue_key(report.venue_id),
                    Expression("SET lastImportStartedAt = :at", values={":at": isoformat(successful_start)}),
                    ITEM_EXISTS,
                )
            )
        try:
            self._table.transact(operations)
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed_positions():
                raise RunSuperseded(report.run_id) from None
            raise

    def latest_report(self, venue_id: str) -> ImportReport | None:
        page = self._table.query(f"VENUE#{venue_id}", sort_prefix=REPORT_PREFIX, limit=1, newest_first=True)
        return ImportReport.model_validate(page.items[0]) if page.items else None

    def reports(self, venue_id: str, limit: int, cursor: str | None) -> tuple[list[ImportReport], str | None]:
        """Newest first, cursor-paged as the other lists."""
        page = self._table.query(
            f"VENUE#{venue_id}", sort_prefix=REPORT_PREFIX, limit=limit, cursor=cursor, newest_first=True
        )
        return [ImportReport.model_validate(item) for item in page.items], page.next_cursor
