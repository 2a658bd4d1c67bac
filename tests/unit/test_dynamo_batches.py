"""Batch writes and reads retry what DynamoDB left unprocessed, with growing, jittered waits, then give up loudly."""

from __future__ import annotations

from typing import Any

import pytest

from pass_culture.dynamo import BATCH_BACKOFF_SECONDS, BATCH_RETRIES, Table, Unprocessed, key, serialize


class ThrottlingClient:
    """Leaves everything unprocessed `throttled` times, then takes it."""

    def __init__(self, throttled: int) -> None:
        self.throttled, self.calls = throttled, 0

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        self.calls += 1
        return {"UnprocessedItems": RequestItems if self.calls <= self.throttled else {}}

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        self.calls += 1
        if self.calls <= self.throttled:
            return {"Responses": {}, "UnprocessedKeys": RequestItems}
        return {"Responses": {"T": RequestItems["T"]["Keys"]}}


def test_unprocessed_items_are_retried_after_growing_waits() -> None:
    waits: list[float] = []
    client = ThrottlingClient(throttled=3)
    Table(client, "T", sleep=waits.append).put_many([key("A", "1")])  # type: ignore[arg-type]
    assert client.calls == 4
    assert len(waits) == 3
    assert all(0 <= wait <= BATCH_BACKOFF_SECONDS * 2**n for n, wait in enumerate(waits))


def test_unprocessed_keys_are_retried_and_every_item_is_read() -> None:
    waits: list[float] = []
    client = ThrottlingClient(throttled=2)
    found = Table(client, "T", sleep=waits.append).batch_get([key("A", "1")])  # type: ignore[arg-type]
    assert found == [key("A", "1")] and len(waits) == 2
    assert serialize(key("A", "1")) == {"PK": {"S": "A"}, "SK": {"S": "1"}}


def test_a_batch_still_throttled_after_every_retry_raises() -> None:
    client = ThrottlingClient(throttled=100)
    with pytest.raises(Unprocessed):
        Table(client, "T", sleep=lambda _: None).put_many([key("A", "1")])  # type: ignore[arg-type]
    assert client.calls == BATCH_RETRIES + 1
