from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


def reference_deserialize(raw: dict[str, Any]) -> dict[str, Any]:
    """boto3's TypeDeserializer, integral numbers as int: what `deserialize` must give, faster."""
    from boto3.dynamodb.types import TypeDeserializer

    from pass_culture.dynamo import _from_dynamo

    return {name: _from_dynamo(TypeDeserializer().deserialize(value)) for name, value in raw.items()}


numbers = st.one_of(
    st.integers(min_value=-(10**37), max_value=10**37).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-(10**20), max_value=10**20).map(str),
    st.sampled_from(["-0", "0.0", "1E+3", "1e-3", "-12.50", "00042", "99999999999999999999999999999999999999"]),
)
values: st.SearchStrategy[dict[str, Any]] = st.recursive(
    st.one_of(
        st.builds(lambda s: {"S": s}, st.text(max_size=20)),
        st.builds(lambda n: {"N": n}, numbers),
        st.builds(lambda b: {"BOOL": b}, st.booleans()),
        st.just({"NULL": True}),
        st.builds(lambda s: {"SS": sorted(s)}, st.sets(st.text(max_size=5), min_size=1, max_size=4)),
        st.builds(lambda s: {"NS": s}, st.lists(numbers, min_size=1, max_size=4, unique=True)),
        st.builds(lambda b: {"B": b}, st.binary(max_size=8)),
    ),
    lambda inner: st.one_of(
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=4)),
        st.builds(lambda members: {"M": members}, st.dictionaries(st.text(max_size=5), inner, max_size=4)),
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(min_size=1, max_size=8), values, max_size=6))
def test_deserialize_gives_what_boto3_gives(raw: dict[str, Any]) -> None:
    try:
        expected = reference_deserialize(raw)
    except Exception as refused:  # a number DynamoDB could not hold either: both refuse it
        with pytest.raises(type(refused)):
            deserialize(raw)
        return
    found = deserialize(raw)
    assert found == expected
    assert typed(found) == typed(expected)  # the same types too: int where int, Decimal where Decimal


def typed(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: typed(member) for name, member in value.items()}
    if isinstance(value, list):
        return [typed(member) for member in value]
    if isinstance(value, set):
        return frozenset(typed(member) for member in value)
    return (type(value).__name__, value)
