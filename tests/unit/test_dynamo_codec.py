from decimal import Decimal

import pytest

from pass_culture.dynamo import decode_cursor, deserialize, encode_cursor, serialize
from pass_culture.errors import BadRequest


def test_items_round_trip_with_whole_numbers_as_int() -> None:
    item = {"PK": "OFFER#1", "priceCents": 1290, "latitude": 48.859, "tags": ["a"], "nested": {"n": 2}, "none": None}
    raw = serialize(item)
    assert raw["latitude"] == {"N": "48.859"}
    back = deserialize(raw)
    assert back["priceCents"] == 1290 and isinstance(back["priceCents"], int)
    assert back["latitude"] == Decimal("48.859")
    assert back["nested"] == {"n": 2} and back["tags"] == ["a"] and back["none"] is None


def test_cursors_are_opaque_and_bound_to_their_list() -> None:
    start = {"PK": "OFFER#x", "SK": "OFFER", "GSI1PK": "VENUE#1", "GSI1SK": "OFFER#2026-11-01#x"}
    cursor = encode_cursor(start)
    assert "VENUE" not in cursor
    assert decode_cursor(cursor, index="GSI1", partition="VENUE#1") == start
    with pytest.raises(BadRequest) as refused:
        decode_cursor(cursor, index="GSI1", partition="VENUE#2")  # someone else's list
    assert refused.value.code == "INVALID_CURSOR"


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%", "bm90IGpzb24", encode_cursor({"PK": {"S": "x"}}), "W10",
        encode_cursor({"PK": "x"}),  # no sort key: DynamoDB would refuse the start key
        encode_cursor({"PK": "x", "SK": 5}),  # not a string
        encode_cursor({"PK": "x", "SK": "y", "extra": "z"}),  # not a key attribute
        encode_cursor({"PK": "x", "SK": "y", "GSI1PK": "x"}),  # another index's key
    ],
)  # fmt: skip
def test_malformed_cursors_are_a_400(cursor: str) -> None:
    with pytest.raises(BadRequest):
        decode_cursor(cursor, index=None, partition="x")
