"""Offerer API keys, stored by the SHA-256 of the key: the key itself is shown once and never stored.
Kept apart from the accounts repository so the authorizer imports only this (cold start).

An offerer holds at most MAX_ACTIVE_API_KEYS_PER_OFFERER active keys (settings): a per-offerer item counts them,
incremented in the same transaction as the key's Put under the condition that it is below the limit, and
decremented in the same transaction as the revocation. Keys created before the counter existed carry no
`countedInLimit` flag: they are neither counted nor decremented when revoked."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from pass_culture.clock import isoformat
from pass_culture.dynamo import (
    GSI1,
    ITEM_IS_NEW,
    Expression,
    Operation,
    Put,
    Table,
    TransactionCancelled,
    Update,
    key,
)
from pass_culture.settings import MAX_ACTIVE_API_KEYS_PER_OFFERER


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def api_key_key(key_hash: str) -> dict[str, str]:
    return key(f"APIKEY#{key_hash}", "APIKEY")


def active_api_keys_key(offerer_id: str) -> dict[str, str]:
    """The count of an offerer's active keys."""
    return key(f"OFFERER#{offerer_id}", "API_KEYS")


def _offerer_index(offerer_id: str) -> str:
    return f"OFFERER#{offerer_id}"


@dataclass(frozen=True)
class ActiveApiKey:
    api_key_id: str
    offerer_id: str


class TooManyApiKeys(Exception):
    """The offerer already holds the most active keys it may."""


class ApiKeyRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def find_active(self, api_key: str) -> ActiveApiKey | None:
        item = self._table.get(api_key_key(hash_api_key(api_key)))
        if item is None or item.get("revokedAt"):
            return None
        return ActiveApiKey(api_key_id=str(item["apiKeyId"]), offerer_id=str(item["offererId"]))

    def add(self, api_key: str, *, api_key_id: str, offerer_id: str, prefix: str, created_at: datetime) -> None:
        """The key and its place in the offerer's count, at once (one TransactWriteItems). Raises TooManyApiKeys."""
        operations: list[Operation] = [
            Put(
                {
                    **api_key_key(hash_api_key(api_key)),
                    "entity": "API_KEY",
                    "GSI1PK": _offerer_index(offerer_id),
                    "GSI1SK": f"APIKEY#{api_key_id}",
                    "apiKeyId": api_key_id,
                    "offererId": offerer_id,
                    "prefix": prefix,
                    "createdAt": isoformat(created_at),
                    "countedInLimit": True,
                },
                ITEM_IS_NEW,
            ),
            Update(
                active_api_keys_key(offerer_id),
                Expression(
                    "ADD activeCount :one SET #entity = :entity, offererId = :offerer",
                    {"#entity": "entity"},
                    {":one": 1, ":entity": "ACTIVE_API_KEYS", ":offerer": offerer_id},
                ),
                Expression(
                    "attribute_not_exists(activeCount) OR activeCount < :most",
                    values={":most": MAX_ACTIVE_API_KEYS_PER_OFFERER},
                ),
            ),
        ]
        try:
            self._table.transact(operations)
        except TransactionCancelled as cancelled:
            if 1 in cancelled.failed_positions():
                raise TooManyApiKeys from None
            raise

    def list_for_offerer(self, offerer_id: str) -> list[dict[str, str | None]]:
        page = self._table.query(_offerer_index(offerer_id), index=GSI1, sort_prefix="APIKEY#", limit=100)
        return [
            {
                "id": item["apiKeyId"],
                "prefix": item["prefix"],
                "createdAt": item["createdAt"],
                "revokedAt": item.get("revokedAt"),
            }
            for item in page.items
        ]

    def revoke(self, offerer_id: str, api_key_id: str, at: datetime) -> bool:
        """False when the offerer has no such key. Revoking twice keeps the first date (and frees one place)."""
        page = self._table.query(_offerer_index(offerer_id), index=GSI1, sort_prefix=f"APIKEY#{api_key_id}", limit=1)
        if not page.items or page.items[0]["apiKeyId"] != api_key_id:
            return False
        found = page.items[0]
        if found.get("revokedAt"):
            return True
        operations: list[Operation] = [
            Update(
                {"PK": found["PK"], "SK": found["SK"]},
                Expression("SET revokedAt = :at", values={":at": isoformat(at)}),
                Expression("attribute_exists(#pk) AND attribute_not_exists(revokedAt)", {"#pk": "PK"}),
            )
        ]
        if found.get("countedInLimit"):
            operations.append(
                Update(
                    active_api_keys_key(offerer_id), Expression("ADD activeCount :minus_one", values={":minus_one": -1})
                )
            )
        try:
            self._table.transact(operations)
        except TransactionCancelled as cancelled:
            if 0 in cancelled.failed_positions():  # revoked meanwhile by someone else: done, counted once
                return True
            raise
        return True
