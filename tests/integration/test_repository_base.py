"""The DynamoDB repository base against moto, on the table as template.yaml declares it."""

from typing import Any

import boto3
import pytest

from pass_culture import dynamo
from pass_culture.dynamo import (
    GSI1,
    ITEM_IS_NEW,
    ConditionCheck,
    ConditionFailed,
    Expression,
    Put,
    TransactionCancelled,
    Update,
)
from pass_culture.errors import BadRequest
from tests.conftest import count_round_trips


@pytest.fixture
def table(moto_stack: Any) -> dynamo.Table:
    return dynamo.Table(boto3.client("dynamodb", region_name="eu-west-3"), moto_stack.ref("Table"))


def test_a_conditional_put_does_not_clobber(table: dynamo.Table) -> None:
    table.put({**dynamo.key("SIREN#123456782", "UNIQUE"), "offererId": "o1"}, condition=ITEM_IS_NEW)
    with pytest.raises(ConditionFailed):
        table.put({**dynamo.key("SIREN#123456782", "UNIQUE"), "offererId": "o2"}, condition=ITEM_IS_NEW)
    assert table.get(dynamo.key("SIREN#123456782", "UNIQUE"), consistent=True) == {
        "PK": "SIREN#123456782", "SK": "UNIQUE", "offererId": "o1"
    }  # fmt: skip


def test_a_transaction_is_all_or_nothing_and_names_the_failed_operation(table: dynamo.Table) -> None:
    stock = dynamo.key("OFFER#1", "STOCK#1")
    table.put({**stock, "quantity": 1, "bookedQuantity": 1})
    book_one_more = Update(
        stock,
        Expression("SET bookedQuantity = bookedQuantity + :one", values={":one": 1}),
        Expression("bookedQuantity < quantity"),
    )
    with pytest.raises(TransactionCancelled) as cancelled:
        table.transact([Put({**dynamo.key("BOOKING#1", "BOOKING"), "status": "CONFIRMED"}, ITEM_IS_NEW), book_one_more])
    assert cancelled.value.failed_positions() == [1]
    assert table.get(dynamo.key("BOOKING#1", "BOOKING")) is None  # nothing half-written
    assert table.get(stock)["bookedQuantity"] == 1  # type: ignore[index]


def test_condition_checks_guard_other_items(table: dynamo.Table) -> None:
    offerer = dynamo.key("OFFERER#1", "PROFILE")
    table.put({**offerer, "validationStatus": "NEW"})
    validated = Expression("#s = :v", {"#s": "validationStatus"}, {":v": "VALIDATED"})
    with pytest.raises(TransactionCancelled) as cancelled:
        table.transact([ConditionCheck(offerer, validated), Put({**dynamo.key("X#1", "X")})])
    assert cancelled.value.failed_positions() == [0]
    updated = table.update(offerer, Expression("SET #s = :v", {"#s": "validationStatus"}, {":v": "VALIDATED"}))
    assert updated["validationStatus"] == "VALIDATED"
    table.transact([ConditionCheck(offerer, validated), Put({**dynamo.key("X#1", "X")})])
    assert table.get(dynamo.key("X#1", "X")) is not None


def test_pages_follow_cursors_newest_first_on_an_index(table: dynamo.Table) -> None:
    for day in range(1, 8):
        table.put({**dynamo.key(f"OFFER#{day}", "OFFER"), "GSI1PK": "VENUE#1", "GSI1SK": f"OFFER#2026-11-0{day}"})
    table.put({**dynamo.key("OFFER#other", "OFFER"), "GSI1PK": "VENUE#2", "GSI1SK": "OFFER#2026-11-09"})
    seen, cursor = [], None
    while True:
        page = table.query("VENUE#1", index=GSI1, limit=3, cursor=cursor, newest_first=True)
        seen += [item["GSI1SK"] for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
        with pytest.raises(BadRequest):
            table.query("VENUE#2", index=GSI1, cursor=cursor)  # a cursor only opens its own list
    assert seen == [f"OFFER#2026-11-0{day}" for day in range(7, 0, -1)]


def test_sort_key_prefix_and_batch_get(table: dynamo.Table) -> None:
    table.put({**dynamo.key("OFFER#1", "OFFER"), "name": "o"})
    table.put({**dynamo.key("OFFER#1", "STOCK#a"), "priceCents": 0})
    table.put({**dynamo.key("OFFER#1", "STOCK#b"), "priceCents": 500})
    assert [i["SK"] for i in table.query("OFFER#1", sort_prefix="STOCK#").items] == ["STOCK#a", "STOCK#b"]
    found = table.batch_get([dynamo.key("OFFER#1", "OFFER"), dynamo.key("OFFER#1", "STOCK#b"), dynamo.key("NO", "NO")])
    assert sorted(i["SK"] for i in found) == ["OFFER", "STOCK#b"]


def test_round_trips_are_counted_per_api_call(table: dynamo.Table) -> None:
    counter = count_round_trips(table._client)
    table.put({**dynamo.key("A", "A")})
    table.get(dynamo.key("A", "A"))
    table.query("A")
    assert counter.calls == ["PutItem", "GetItem", "Query"]
