"""Offerer API keys, stored by the SHA-256 of the key (the key itself is shown once and never stored)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pass_culture.dynamo import Table, key


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def api_key_key(key_hash: str) -> dict[str, str]:
    return key(f"APIKEY#{key_hash}", "APIKEY")


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
