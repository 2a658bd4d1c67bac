"""The local stack's DynamoDB transactions (infra/local/moto_transactions.py) keep AWS's semantics: all or nothing,
the reasons by position, one operation per item, conditions judged on the state before the transaction."""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def table(moto_stack: Any) -> tuple[Any, str]:
    client = boto3.client("dynamodb", region_name="eu-west-3")
    name = moto_stack.ref("Table")
    for n in range(3):
        client.put_item(TableName=name, Item={"PK": {"S": f"K#{n}"}, "SK": {"S": "S"}, "n": {"N": str(n)}})
    return client, name


def put(name: str, pk: str, condition: str | None = None, **extra: Any) -> dict[str, Any]:
    operation: dict[str, Any] = {"TableName": name, "Item": {"PK": {"S": pk}, "SK": {"S": "S"}, "n": {"N": "9"}}}
    if condition:
        operation["ConditionExpression"] = condition
    operation.update(extra)
    return {"Put": operation}


def items(client: Any, name: str, *pks: str) -> list[Any]:
    return [client.get_item(TableName=name, Key={"PK": {"S": pk}, "SK": {"S": "S"}}).get("Item") for pk in pks]


def test_all_or_nothing_with_the_reasons_by_position(table: tuple[Any, str]) -> None:
    client, name = table
    with pytest.raises(ClientError) as cancelled:
        client.transact_write_items(
            TransactItems=[
                put(name, "NEW#1", "attribute_not_exists(PK)"),
                put(name, "K#1", "attribute_not_exists(PK)", ReturnValuesOnConditionCheckFailure="ALL_OLD"),
                {"Update": {"TableName": name, "Key": {"PK": {"S": "K#2"}, "SK": {"S": "S"}},
                            "UpdateExpression": "SET n = n + :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            ]
        )  # fmt: skip
    error = cancelled.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    reasons = error["CancellationReasons"]
    assert [reason["Code"] for reason in reasons] == ["None", "ConditionalCheckFailed", "None"]
    assert reasons[1]["Item"]["n"] == {"N": "1"}  # type: ignore[typeddict-item]
    assert items(client, name, "NEW#1") == [None]
    assert items(client, name, "K#2")[0]["n"] == {"N": "2"}  # untouched


def test_a_successful_transaction_writes_every_operation(table: tuple[Any, str]) -> None:
    client, name = table
    client.transact_write_items(
        TransactItems=[
            put(name, "NEW#1", "attribute_not_exists(PK)"),
            {"Delete": {"TableName": name, "Key": {"PK": {"S": "K#0"}, "SK": {"S": "S"}}}},
            {"ConditionCheck": {"TableName": name, "Key": {"PK": {"S": "K#1"}, "SK": {"S": "S"}},
                                "ConditionExpression": "n = :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ]
    )  # fmt: skip
    new, deleted, checked = items(client, name, "NEW#1", "K#0", "K#1")
    assert new["n"] == {"N": "9"} and deleted is None and checked["n"] == {"N": "1"}


def test_two_operations_on_one_item_are_refused(table: tuple[Any, str]) -> None:
    client, name = table
    with pytest.raises(ClientError) as refused:
        client.transact_write_items(TransactItems=[put(name, "NEW#1"), put(name, "NEW#1")])
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert items(client, name, "NEW#1") == [None]


def test_an_operation_failing_while_applied_undoes_the_earlier_ones(table: tuple[Any, str]) -> None:
    client, name = table
    with pytest.raises(ClientError):
        client.transact_write_items(
            TransactItems=[
                put(name, "NEW#1"),
                {"Update": {"TableName": name, "Key": {"PK": {"S": "K#1"}, "SK": {"S": "S"}}, "UpdateExpression": "SET n = n + :s",
                            "ExpressionAttributeValues": {":s": {"S": "not a number"}}}},
            ]
        )  # fmt: skip
    assert items(client, name, "NEW#1") == [None]
    assert items(client, name, "K#1")[0]["n"] == {"N": "1"}


def test_the_table_is_not_copied(table: tuple[Any, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's own version deep-copied the whole table once per operation; this one copies the targeted items."""
    from moto.dynamodb.models.table import Table

    client, name = table
    copied: list[Any] = []
    original = copy.deepcopy

    def counting(value: Any, memo: Any = None) -> Any:
        copied.append(type(value))
        return original(value, memo)

    monkeypatch.setattr("infra.local.moto_transactions.copy.deepcopy", counting)
    client.transact_write_items(TransactItems=[put(name, f"NEW#{n}") for n in range(10)])
    assert Table not in copied and len(copied) == 10
