"""Offerer API keys, stored by the SHA-256 of the key: the key itself is shown once and never stored.
Kept apart from the accounts repository so the authorizer imports only this (cold start)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from pass_culture.clock import isoformat
from pass_culture.dynamo import GSI1, ITEM_EXISTS, ITEM_IS_NEW, ConditionFailed, Expression, Table, key


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def api_key_key(key_hash: str) -> dict[str, str]:
    return key(f"APIKEY#{key_hash}", "APIKEY")


def _offerer_index(offerer_id: str) -> str:
    return f"OFFERER#{offerer_id}"


@dataclass(frozen=True)
class ActiveApiKey:
    api_key_id: str
    offerer_id: str


class ApiKeyRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def find_active(self, api_key: str) -> ActiveApiKey | None:
        item = self._table.get(api_key_key(hash_api_key(api_key)))
        if item is None or item.get("revokedAt"):
            return None
        return ActiveApiKey(api_key_id=str(item["apiKeyId"]), offerer_id=str(item["offererId"]))

    def add(self, api_key: str, *, api_key_id: str, offerer_id: str, prefix: str, created_at: datetime) -> None:
        self._table.put(
            {
                **api_key_key(hash_api_key(api_key)),
                "entity": "API_KEY",
                "GSI1PK": _offerer_index(offerer_id),
                "GSI1SK": f"APIKEY#{api_key_id}",
                "apiKeyId": api_key_id,
                "offererId": offerer_id,
                "prefix": prefix,
                "createdAt": isoformat(created_at),
            },
            condition=ITEM_IS_NEW,
        )

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
        """False when the offerer has no such key. Revoking twice keeps the first date."""
        page = self._table.query(_offerer_index(offerer_id), index=GSI1, sort_prefix=f"APIKEY#{api_key_id}", limit=1)
        if not page.items or page.items[0]["apiKeyId"] != api_key_id:
            return False
        found = page.items[0]
        try:
            self._table.update(
                {"PK": found["PK"], "SK": found["SK"]},
                Expression("SET revokedAt = if_not_exists(revokedAt, :at)", values={":at": isoformat(at)}),
                condition=ITEM_EXISTS,
            )
        except ConditionFailed:
            return False
        return True
