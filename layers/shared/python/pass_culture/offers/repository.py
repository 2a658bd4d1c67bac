"""Offers, stocks and catalogue books in the table (docs/data-model.md). The only code that knows their keys.

Writes a pro makes carry a ConditionCheck on their membership of the offerer, inside the same transaction: the
authorisation and the write are one round trip, and cannot drift apart."""

from __future__ import annotations

from typing import Any

from pass_culture.accounts.models import Offerer, Venue
from pass_culture.accounts.repository import membership_key, offerer_key, venue_key
from pass_culture.clock import isoformat
from pass_culture.dynamo import (
    GSI1,
    GSI2,
    ITEM_EXISTS,
    ITEM_IS_NEW,
    ConditionCheck,
    Expression,
    Item,
    Operation,
    Page,
    Put,
    Table,
    TransactionCancelled,
    Update,
    key,
)
from pass_culture.errors import Conflict, Forbidden, NotFound
from pass_culture.geo import PARTITION_PRECISION
from pass_culture.offers.models import BookInfo, Offer, Stock


class OfferExists(Exception):
    """An offer with this id is already written (a creation keyed by an Idempotency-Key, run again)."""


NOT_A_MEMBER = Forbidden("You are not a member of this venue's offerer.", code="NOT_OFFERER_MEMBER")


def offer_key(offer_id: str) -> Item:
    return key(f"OFFER#{offer_id}", "OFFER")


MAX_TRANSACTION_ITEMS = 100  # DynamoDB's TransactWriteItems limit


def stock_item(stock: Stock, offer_active: bool) -> Item:
    """A stock as stored. It carries its offer's `isActive` (`offerActive`) so that a booking checks the stock item
    alone: the offer's own check shared the stock's partition and took a third of its write capacity when an event
    sells out at once (docs/scale.md §3, §8: A → B)."""
    return {**stock_key(stock.id), "entity": "STOCK", **stock.to_api(), "offerActive": offer_active}


def stock_key(stock_id: str) -> Item:
    return key(f"OFFER#{offer_id_of_stock(stock_id)}", f"STOCK#{stock_id}")


def book_key(ean: str) -> Item:
    return key(f"BOOK#{ean}", "BOOK")


def offer_id_of_stock(stock_id: str) -> str:
    """Stock ids carry their offer's id (`<offerId>.<n>`): one Query reads an offer with all its stocks."""
    return stock_id.split(".", 1)[0]


def _index_keys(offer: Offer) -> Item:
    keys: Item = {"GSI1PK": f"VENUE#{offer.venue_id}", "GSI1SK": f"OFFER#{isoformat(offer.created_at)}#{offer.id}"}
    if offer.ean:
        keys.update(GSI3PK=f"VENUE#{offer.venue_id}#EAN", GSI3SK=offer.ean)
    return keys


def _geo_keys(offer: Offer) -> Item:
    """Listed in the search index only while active (sparse index)."""
    return {"GSI2PK": f"GEO#{offer.geohash[:PARTITION_PRECISION]}", "GSI2SK": f"{offer.geohash}#{offer.id}"}


def _member(user_id: str, offerer_id: str) -> ConditionCheck:
    return ConditionCheck(membership_key(user_id, offerer_id), ITEM_EXISTS)


class OffersRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def _transact_as_member(self, operations: list[Operation], on_conflict: Exception | None = None) -> None:
        """The membership ConditionCheck is always last: its failure is a 403; any other condition, `on_conflict`."""
        try:
            self._table.transact(operations)
        except TransactionCancelled as cancelled:
            failed = cancelled.failed_positions()
            if len(operations) - 1 in failed:
                raise NOT_A_MEMBER from None
            if on_conflict is not None and failed:
                raise on_conflict from None
            raise

    # -- reads ---------------------------------------------------------------------------------------------------
    def venue_and_book(self, venue_id: str, ean: str | None) -> tuple[Venue | None, BookInfo | None]:
        keys = [venue_key(venue_id)] + ([book_key(ean)] if ean else [])
        found = {item["PK"]: item for item in self._table.batch_get(keys)}
        venue = found.get(f"VENUE#{venue_id}")
        book = found.get(f"BOOK#{ean}") if ean else None
        return (Venue.model_validate(venue) if venue else None, BookInfo.model_validate(book) if book else None)

    def get_offer(self, offer_id: str) -> Offer | None:
        item = self._table.get(offer_key(offer_id))
        return Offer.model_validate(item) if item else None

    def offer_with_stocks(self, offer_id: str) -> tuple[Offer, list[Stock]] | None:
        items = self._table.query_all(f"OFFER#{offer_id}")
        offer = next((i for i in items if i["SK"] == "OFFER"), None)
        if offer is None:
            return None
        stocks = [Stock.model_validate(i) for i in items if i["SK"].startswith("STOCK#")]
        return Offer.model_validate(offer), sorted(
            stocks, key=lambda s: (s.beginning_datetime is None, s.beginning_datetime, s.id)
        )

    def offer_and_stock(self, stock_id: str) -> tuple[Offer | None, Stock | None]:
        found = {
            item["SK"]: item
            for item in self._table.batch_get([offer_key(offer_id_of_stock(stock_id)), stock_key(stock_id)])
        }
        offer, stock = found.get("OFFER"), found.get(f"STOCK#{stock_id}")
        return (Offer.model_validate(offer) if offer else None, Stock.model_validate(stock) if stock else None)

    def get_offerer(self, offerer_id: str) -> Offerer | None:
        item = self._table.get(offerer_key(offerer_id))
        return Offerer.model_validate(item) if item else None

    def is_member(self, user_id: str, offerer_id: str) -> bool:
        return self._table.get(membership_key(user_id, offerer_id)) is not None

    def get_venue(self, venue_id: str) -> Venue | None:
        item = self._table.get(venue_key(venue_id))
        return Venue.model_validate(item) if item else None

    def venue_offers(self, venue_id: str, limit: int, cursor: str | None) -> tuple[list[Offer], str | None]:
        page: Page = self._table.query(
            f"VENUE#{venue_id}", index=GSI1, sort_prefix="OFFER#", limit=limit, cursor=cursor, newest_first=True
        )
        return [Offer.model_validate(item) for item in page.items], page.next_cursor

    def offers_in_cell(self, cell: str) -> list[Offer]:
        """Active offers whose geohash starts with `cell` (one Query, more only past 1 MB of results)."""
        partition = f"GEO#{cell[:PARTITION_PRECISION]}"
        prefix = cell if len(cell) > PARTITION_PRECISION else None
        return [Offer.model_validate(item) for item in self._table.query_all(partition, index=GSI2, sort_prefix=prefix)]

    def stocks_and_offerers(
        self, stock_ids: list[str], offerer_ids: list[str]
    ) -> tuple[dict[str, Stock], dict[str, Offerer]]:
        keys = [stock_key(s) for s in stock_ids] + [offerer_key(o) for o in offerer_ids]
        stocks: dict[str, Stock] = {}
        offerers: dict[str, Offerer] = {}
        for item in self._table.batch_get(keys):
            if item["SK"].startswith("STOCK#"):
                stocks[item["id"]] = Stock.model_validate(item)
            else:
                offerers[item["id"]] = Offerer.model_validate(item)
        return stocks, offerers

    def get_book(self, ean: str) -> BookInfo | None:
        item = self._table.get(book_key(ean))
        return BookInfo.model_validate(item) if item else None

    # -- writes --------------------------------------------------------------------------------------------------
    def reserve_public_ids(self, count: int) -> int:
        return reserve_public_ids(self._table, count)

    def create_offer(self, offer: Offer, user_id: str) -> None:
        """Raises OfferExists when an offer has its id already (a keyed creation run again)."""
        item = {**offer_key(offer.id), "entity": "OFFER", **_index_keys(offer), **offer.to_api()}
        if offer.is_active:
            item.update(_geo_keys(offer))
        self._transact_as_member([Put(item, ITEM_IS_NEW), _member(user_id, offer.offerer_id)], OfferExists())

    def update_offer(self, offer: Offer, changes: dict[str, Any], user_id: str) -> Offer:
        """Applies camelCase `changes`; listing in the search index follows `isActive`."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets: list[str] = []
        for position, (field_name, value) in enumerate(changes.items()):
            names[f"#f{position}"] = field_name
            values[f":v{position}"] = value
            sets.append(f"#f{position} = :v{position}")
        removes: list[str] = []
        updated = offer.model_copy(update={})
        is_active = changes.get("isActive", offer.is_active)
        if is_active:
            for field_name, value in _geo_keys(updated).items():
                names[f"#{field_name}"] = field_name
                values[f":{field_name}"] = value
                sets.append(f"#{field_name} = :{field_name}")
        else:
            removes += ["GSI2PK", "GSI2SK"]
        text = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        stocks = offer.stock_ids if is_active != offer.is_active else []  # their offerActive follows (stock_item)
        flips = [
            Update(stock_key(stock_id), Expression("SET offerActive = :active", values={":active": is_active}))
            for stock_id in stocks
        ]
        room = MAX_TRANSACTION_ITEMS - 2
        main = [Update(offer_key(offer.id), Expression(text, names, values), ITEM_EXISTS), *flips[:room]]
        rest = [flips[n : n + MAX_TRANSACTION_ITEMS] for n in range(room, len(flips), MAX_TRANSACTION_ITEMS)]
        # Past one transaction (an event with more than 98 dates), no stock may be bookable while its offer is not:
        # a deactivation closes the other stocks first, an activation opens them last.
        for chunk in rest if not is_active else []:
            self._table.transact(chunk)
        self._transact_as_member([*main, _member(user_id, offer.offerer_id)])
        for chunk in rest if is_active else []:
            self._table.transact(chunk)
        return Offer.model_validate({**offer.to_api(), **changes})

    def add_stock(self, offer: Offer, stock: Stock, user_id: str) -> None:
        self._transact_as_member(
            [
                Put(stock_item(stock, offer.is_active), ITEM_IS_NEW),
                Update(
                    offer_key(offer.id),
                    Expression(
                        "SET stockIds = list_append(stockIds, :new), updatedAt = :at",
                        values={":new": [stock.id], ":at": stock.to_api()["createdAt"]},
                    ),
                    ITEM_EXISTS,
                ),
                _member(user_id, offer.offerer_id),
            ]
        )

    def update_stock(self, offer: Offer, stock_id: str, changes: dict[str, Any], user_id: str) -> Stock:
        """Quantity is conditioned on what is booked *now* (not on what was read): never below booked."""
        names = {f"#f{i}": name for i, name in enumerate(changes)}
        values = {f":v{i}": value for i, value in enumerate(changes.values())}
        update = Expression("SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(changes))), names, values)
        condition = ITEM_EXISTS
        if changes.get("quantity") is not None:
            condition = Expression(
                "attribute_exists(#pk) AND bookedQuantity <= :quantity",
                {"#pk": "PK"},
                {":quantity": changes["quantity"]},
            )
        self._transact_as_member(
            [Update(stock_key(stock_id), update, condition), _member(user_id, offer.offerer_id)],
            on_conflict=Conflict("The quantity cannot go below what is already booked.", code="QUANTITY_BELOW_BOOKED"),
        )
        _, stock = self.offer_and_stock(stock_id)
        if stock is None:
            raise NotFound("No such stock.", code="STOCK_NOT_FOUND")
        return stock

    def put_books(self, books: list[BookInfo]) -> None:
        self._table.put_many([{**book_key(b.ean), "entity": "BOOK", **b.to_api()} for b in books])


PUBLIC_IDS_KEY = key("COUNTER", "OFFER_PUBLIC_ID")


def reserve_public_ids(table: Table, count: int) -> int:
    """`count` new numeric public offer ids, the first of them: one atomic ADD on a counter item (DynamoDB applies
    concurrent ADDs one after the other, so no two offers share a number; a failed creation leaves a gap)."""
    after = table.update(PUBLIC_IDS_KEY, Expression("ADD #n :count", {"#n": "lastId"}, {":count": count}))
    return int(after["lastId"]) - count + 1
