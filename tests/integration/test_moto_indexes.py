"""GSI queries on the local stack (infra/local/moto_indexes.py) answer exactly as stock moto does, reading only the
queried partition: random writes through every write path, then queries compared page by page with moto's own walk
of the whole table, and a count of the items moto's query code is handed."""

from __future__ import annotations

import random
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.local import moto_indexes
from infra.local.embedded_aws import ACCOUNT_ID, REGION

HASHES = ["H#0", "H#1", "H#2"]
SORTS = ["a", "a#1", "b", "b#2", "c"]  # few values: items tie on the index range key, the table key decides


@pytest.fixture
def table(moto_stack: Any) -> tuple[Any, str]:
    return boto3.client("dynamodb", region_name=REGION), moto_stack.ref("Table")


def moto_table(name: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT_ID][REGION].get_table(name)


@pytest.fixture
def restricted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each partition a query was restricted to (a query moto answered its own way adds nothing)."""
    sizes: list[int] = []
    original = moto_indexes._partition

    def spy(*args: Any) -> list[Any] | None:
        items = original(*args)
        if items is not None:
            sizes.append(len(items))
        return items

    monkeypatch.setattr(moto_indexes, "_partition", spy)
    return sizes


def pages(client: Any, **query: Any) -> list[dict[str, Any]]:
    """Every page of a query, as the client sees it (items, counts, LastEvaluatedKey)."""
    answers: list[dict[str, Any]] = []
    while len(answers) < 60:
        page = client.query(**query)
        page.pop("ResponseMetadata", None)
        answers.append(page)
        if "LastEvaluatedKey" not in page:
            break
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return answers


def as_moto(client: Any, **query: Any) -> list[dict[str, Any]]:
    with moto_indexes.bypassed():
        return pages(client, **query)


def key(rng: random.Random) -> dict[str, Any]:
    return {"PK": {"S": f"P#{rng.randrange(25)}"}, "SK": {"S": rng.choice(["A", "B"])}}


def random_item(rng: random.Random) -> dict[str, Any]:
    item: dict[str, Any] = {**key(rng), "n": {"N": str(rng.randrange(10))}}
    for i in range(1, 6):
        if rng.random() < 0.6:
            item[f"GSI{i}PK"] = {"S": rng.choice(HASHES)}
        if rng.random() < 0.8:
            item[f"GSI{i}SK"] = {"S": rng.choice(SORTS)}
    if rng.random() < 0.3:
        item["flag"] = {"BOOL": True}
    return item


def random_update(rng: random.Random, name: str) -> dict[str, Any]:
    i, j = rng.sample(range(1, 6), 2)
    expression, values = rng.choice(
        [
            (f"SET GSI{i}PK = :h, GSI{i}SK = :s", {":h": {"S": rng.choice(HASHES)}, ":s": {"S": rng.choice(SORTS)}}),
            (f"SET GSI{i}PK = :h", {":h": {"S": rng.choice(HASHES)}}),
            (f"REMOVE GSI{i}PK", {}),
            (f"REMOVE GSI{i}SK", {}),
            (f"SET GSI{i}PK = :h REMOVE GSI{j}PK", {":h": {"S": rng.choice(HASHES)}}),
            ("SET n = if_not_exists(n, :zero) + :one", {":zero": {"N": "0"}, ":one": {"N": "1"}}),
        ]
    )
    update: dict[str, Any] = {"TableName": name, "Key": key(rng), "UpdateExpression": expression}
    if values:
        update["ExpressionAttributeValues"] = values
    return update


def write(rng: random.Random, client: Any, name: str) -> None:
    """One random write, through one of moto's write paths; refusals (conditions, cancellations) included."""
    kind = rng.choice(["put", "put", "conditional put", "update", "update", "delete", "batch", "transaction"])
    refused = None
    try:
        if kind == "put":
            client.put_item(TableName=name, Item=random_item(rng))
        elif kind == "conditional put":
            client.put_item(TableName=name, Item=random_item(rng), ConditionExpression="attribute_not_exists(PK)")
        elif kind == "update":
            client.update_item(**random_update(rng, name))
        elif kind == "delete":
            client.delete_item(TableName=name, Key=key(rng))
        elif kind == "batch":
            requests: dict[str, Any] = {}
            for _ in range(rng.randrange(1, 8)):
                item = random_item(rng)
                target = str((item["PK"], item["SK"]))
                if rng.random() < 0.7:
                    requests[target] = {"PutRequest": {"Item": item}}
                else:
                    requests[target] = {"DeleteRequest": {"Key": {"PK": item["PK"], "SK": item["SK"]}}}
            client.batch_write_item(RequestItems={name: list(requests.values())})
        else:
            operations: dict[str, Any] = {}
            for _ in range(rng.randrange(1, 5)):
                update = random_update(rng, name)
                marker = str(update["Key"])
                if marker in operations:
                    continue
                choice = rng.random()
                if choice < 0.3:
                    item = {**random_item(rng), **update["Key"]}
                    put: dict[str, Any] = {"TableName": name, "Item": item}
                    if rng.random() < 0.3:
                        put["ConditionExpression"] = "attribute_not_exists(PK)"
                    operations[marker] = {"Put": put}
                elif choice < 0.7:
                    operations[marker] = {"Update": update}
                else:
                    operations[marker] = {"Delete": {"TableName": name, "Key": update["Key"]}}
            client.transact_write_items(TransactItems=list(operations.values()))
    except ClientError as error:
        refused = error.response["Error"]["Code"]
    assert refused in {None, "ConditionalCheckFailedException", "TransactionCanceledException"}


def random_query(rng: random.Random, name: str) -> dict[str, Any]:
    i = rng.randrange(1, 6)
    values: dict[str, Any] = {":h": {"S": rng.choice([*HASHES, "H#9"])}}
    condition = f"GSI{i}PK = :h"
    comparison = rng.choice([None, "=", "<", "<=", ">", ">=", "begins_with", "BETWEEN"])
    if comparison == "begins_with":
        condition += f" AND begins_with(GSI{i}SK, :s)"
        values[":s"] = {"S": rng.choice(["a", "b", "c", "a#"])}
    elif comparison == "BETWEEN":
        low, high = sorted(rng.sample(SORTS, 2))
        condition += f" AND GSI{i}SK BETWEEN :low AND :high"
        values.update({":low": {"S": low}, ":high": {"S": high}})
    elif comparison is not None:
        condition += f" AND GSI{i}SK {comparison} :s"
        values[":s"] = {"S": rng.choice(SORTS)}
    query: dict[str, Any] = {"TableName": name, "IndexName": f"GSI{i}", "KeyConditionExpression": condition}
    if rng.random() < 0.5:
        query["Limit"] = rng.randrange(1, 5)
    if rng.random() < 0.4:
        query["ScanIndexForward"] = False
    if rng.random() < 0.3:
        query["FilterExpression"] = rng.choice(["n > :z", "attribute_exists(flag)"])
        if "n > :z" in query["FilterExpression"]:
            values[":z"] = {"N": str(rng.randrange(10))}
    projection = rng.random()
    if projection < 0.2:
        query["ProjectionExpression"] = f"PK, SK, GSI{i}SK, n"
    elif projection < 0.3:
        query["Select"] = "COUNT"
    query["ExpressionAttributeValues"] = values
    return query


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_answers_are_moto_s_through_every_write_path(table: tuple[Any, str], restricted: list[int], seed: int) -> None:
    client, name = table
    rng = random.Random(seed)
    for _ in range(40):  # an index built from an existing table
        write(rng, client, name)
    for _ in range(30):
        for _ in range(rng.randrange(1, 6)):  # then kept current by the writes
            write(rng, client, name)
        query = random_query(rng, name)
        assert pages(client, **query) == as_moto(client, **query), query
    assert len(restricted) >= 30  # every query (and page) went through the partition, not moto's walk


def test_legacy_key_conditions_and_table_queries_are_moto_s(table: tuple[Any, str], restricted: list[int]) -> None:
    client, name = table
    rng = random.Random(7)
    for _ in range(80):
        write(rng, client, name)
    legacy = {
        "TableName": name,
        "IndexName": "GSI1",
        "KeyConditions": {
            "GSI1PK": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "H#1"}]},
            "GSI1SK": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "a"}]},
        },
        "Limit": 2,
    }
    assert pages(client, **legacy) == as_moto(client, **legacy)
    assert restricted
    restricted.clear()
    on_table = {
        "TableName": name,
        "KeyConditionExpression": "PK = :p",
        "ExpressionAttributeValues": {":p": {"S": "P#3"}},
    }
    assert pages(client, **on_table) == as_moto(client, **on_table)
    assert restricted == []  # not an index: moto's own way


def test_pages_cut_at_one_megabyte_are_moto_s(table: tuple[Any, str], restricted: list[int]) -> None:
    client, name = table
    for n in range(12):
        client.put_item(
            TableName=name,
            Item={"PK": {"S": f"BIG#{n}"}, "SK": {"S": "S"}, "GSI2PK": {"S": "BIG"}, "GSI2SK": {"S": f"{n % 3}"},
                  "blob": {"S": "x" * 150_000}},
        )  # fmt: skip
    query = {"TableName": name, "IndexName": "GSI2", "KeyConditionExpression": "GSI2PK = :h",
             "ExpressionAttributeValues": {":h": {"S": "BIG"}}}  # fmt: skip
    answers = pages(client, **query)
    assert len(answers) > 1 and answers == as_moto(client, **query)
    assert sum(page["Count"] for page in answers) == 12


def test_a_table_deleted_and_created_again_is_indexed_again(table: tuple[Any, str]) -> None:
    client, name = table
    item = {"PK": {"S": "P#1"}, "SK": {"S": "A"}, "GSI1PK": {"S": "H#0"}, "GSI1SK": {"S": "a"}}
    client.put_item(TableName=name, Item=item)
    query = {"TableName": name, "IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :h",
             "ExpressionAttributeValues": {":h": {"S": "H#0"}}}  # fmt: skip
    assert client.query(**query)["Count"] == 1
    description = client.describe_table(TableName=name)["Table"]
    client.delete_table(TableName=name)
    client.create_table(
        TableName=name,
        AttributeDefinitions=description["AttributeDefinitions"],
        KeySchema=description["KeySchema"],
        GlobalSecondaryIndexes=[
            {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
            for index in description["GlobalSecondaryIndexes"]
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    assert client.query(**query)["Count"] == 0
    client.put_item(TableName=name, Item={**item, "SK": {"S": "B"}})
    assert [found["SK"] for found in client.query(**query)["Items"]] == [{"S": "B"}]


def test_a_query_reads_the_partition_not_the_table(
    table: tuple[Any, str], restricted: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """20 000 unrelated items, a partition of 10: moto's query code is handed 10 items, not the table, every time."""
    from moto.dynamodb.models.table import Table

    client, name = table
    stored = moto_table(name)
    for n in range(20_000):
        stored.put_item({"PK": {"S": f"O#{n}"}, "SK": {"S": "META"}, "GSI3PK": {"S": f"DUE#other#{n % 2000}"},
                         "GSI3SK": {"S": f"{n:06d}"}, "GSI1PK": {"S": "ALL"}, "GSI1SK": {"S": f"{n:06d}"}})  # fmt: skip
    for n in range(10):
        client.put_item(TableName=name, Item={"PK": {"S": f"J#{n}"}, "SK": {"S": "META"},
                                              "GSI3PK": {"S": "DUE#job#day"}, "GSI3SK": {"S": f"{n:06d}"}})  # fmt: skip
    query = {"TableName": name, "IndexName": "GSI3", "KeyConditionExpression": "GSI3PK = :h",
             "ExpressionAttributeValues": {":h": {"S": "DUE#job#day"}}}  # fmt: skip
    assert client.query(**query)["Count"] == 10  # builds the index: one pass over the table

    handed: list[int] = []  # how many items moto's query code walks, each time it asks for the table's items
    walked = Table.all_items

    def all_items(self: Any) -> list[Any]:
        items = walked(self)
        handed.append(len(items))
        return items

    builds: list[int] = []
    build = moto_indexes._build

    def counted_build(*args: Any) -> Any:
        builds.append(1)
        return build(*args)

    monkeypatch.setattr(Table, "all_items", all_items)
    monkeypatch.setattr(moto_indexes, "_build", counted_build)

    for n in range(5):
        client.update_item(TableName=name, Key={"PK": {"S": f"J#{n}"}, "SK": {"S": "META"}},
                           UpdateExpression="SET GSI3PK = :done", ExpressionAttributeValues={":done": {"S": "DONE"}})  # fmt: skip
        client.put_item(TableName=name, Item={"PK": {"S": f"K#{n}"}, "SK": {"S": "META"},
                                              "GSI3PK": {"S": "DUE#job#day"}, "GSI3SK": {"S": f"k{n}"}})  # fmt: skip
        client.delete_item(TableName=name, Key={"PK": {"S": f"O#{n}"}, "SK": {"S": "META"}})
        page = client.query(**query, Limit=4)
        assert page["Count"] == 4
    answer = pages(client, **query)
    assert [item["PK"]["S"] for page in answer for item in page["Items"]] == [
        *(f"J#{n}" for n in range(5, 10)),
        *(f"K#{n}" for n in range(5)),
    ]
    client.delete_item(TableName=name, Key={"PK": {"S": "J#9"}, "SK": {"S": "META"}})
    assert client.query(**query)["Count"] == 9
    index = moto_indexes._indexes[stored]  # the deletes took their keys along (the partition does not grow stale)
    assert len(index.partitions["GSI3"][("S", "DUE#job#day")]) == 9 and len(index.placed) == 20_000 + 10 + 5 - 5 - 1
    assert handed and max(handed) <= 10  # stock moto hands over all 20 010 items, on every query
    assert builds == []  # the writes kept the index current: never walked again
    assert restricted and max(restricted) <= 10


def test_install_is_idempotent(moto_stack: Any) -> None:
    from moto.dynamodb.models.table import Table

    query, all_items = Table.query, Table.all_items
    moto_indexes.install()
    assert (Table.query, Table.all_items) == (query, all_items)
