"""The offerer directory the route gate reads (pass_culture.access): which offerer owns a venue, an offer or a
stock, and whether a user is one of its members. One GetItem each, reading only the owner's id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pass_culture.access import MAX_ID_LENGTH, ResourceKind

if TYPE_CHECKING:
    from pass_culture.dynamo import Item, Table


class OwnershipRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def offerer_of(self, kind: ResourceKind, resource_id: str) -> str | None:
        # The repositories' key helpers are imported here, not at the top: the accounts, offers and counter functions
        # all build this directory, and none should load the other contexts' models at cold start.
        from pass_culture.accounts.repository import venue_key
        from pass_culture.offers.repository import offer_id_of_stock, offer_key

        if not 0 < len(resource_id) <= MAX_ID_LENGTH:
            return None
        item_key: Item
        if kind == "venue":
            item_key = venue_key(resource_id)
        elif kind == "offer":
            item_key = offer_key(resource_id)
        else:  # a stock: its id carries its offer's
            item_key = offer_key(offer_id_of_stock(resource_id))
        found = self._table.get(item_key, attributes=("offererId",))
        return str(found["offererId"]) if found and found.get("offererId") else None

    def is_member(self, user_id: str, offerer_id: str) -> bool:
        from pass_culture.accounts.repository import membership_key

        if not 0 < len(offerer_id) <= MAX_ID_LENGTH:
            return False
        return self._table.get(membership_key(user_id, offerer_id), attributes=("PK",)) is not None


def build_ownership_repository() -> OwnershipRepository:
    """The directory as a Lambda instance uses it (build it once, on the first request that names an offerer)."""
    from pass_culture import aws
    from pass_culture.dynamo import Table
    from pass_culture.settings import get_settings

    return OwnershipRepository(Table(aws.dynamodb(), get_settings().table_name))
