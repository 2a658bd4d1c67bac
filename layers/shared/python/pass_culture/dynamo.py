"""The DynamoDB repository base. Repositories (one per aggregate) build on `Table`; they alone know key shapes.

- Items are plain dicts of Python values here; numbers come back as `int` when whole, `Decimal` otherwise.
- Writes that must not clobber are conditional; invariants spanning items go in one `transact` call, whose failure
  names the failing operations by position (`TransactionCancelled.failed_positions`).
- Pagination cursors are opaque to clients; a cursor is only accepted for the partition it was issued for.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from pass_culture.errors import BadRequest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]

PK = "PK"
SK = "SK"
# Overloaded secondary indexes (docs/data-model.md says what each entity puts in them).
GSI1, GSI2, GSI3, GSI4, GSI5 = "GSI1", "GSI2", "GSI3", "GSI4", "GSI5"
INDEX_KEYS: dict[str | None, tuple[str, str]] = {
    None: (PK, SK),
    **{index: (f"{index}PK", f"{index}SK") for index in (GSI1, GSI2, GSI3, GSI4, GSI5)},
}
TTL_ATTRIBUTE = "ttl"


@cache
def _codecs() -> tuple[Any, Any]:
    # boto3 is imported where it is used: importing it costs ~150 ms of cold start (architecture.md).
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def key(pk: str, sk: str) -> Item:
    return {PK: pk, SK: sk}


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    serializer = _codecs()[0]
    return {name: serializer.serialize(_to_dynamo(value)) for name, value in item.items()}


def deserialize(raw: Mapping[str, Any]) -> Item:
    """An item from DynamoDB's JSON: what boto3's TypeDeserializer gives, integral numbers as int. Written out here
    because boto3's (a dispatch and a Decimal context call a value) was half of the search's own time (make bench)."""
    return {name: _decode(value) for name, value in raw.items()}


def _decode(value: Mapping[str, Any]) -> Any:
    ((tag, inner),) = value.items()
    if tag == "S" or tag == "BOOL":
        return inner
    if tag == "N":
        return _number(inner)
    if tag == "M":
        return {name: _decode(member) for name, member in inner.items()}
    if tag == "L":
        return [_decode(member) for member in inner]
    if tag == "NULL":
        return None
    if tag == "SS":
        return set(inner)
    if tag == "NS":
        return {_number(number) for number in inner}
    return _from_dynamo(_codecs()[1].deserialize(value))  # binaries, and anything unknown (boto3 raises)


def _number(text: str) -> int | Decimal:
    if text.isascii() and (text.isdigit() or (text[:1] == "-" and text[1:].isdigit())):
        return int(text)
    from boto3.dynamodb.types import DYNAMODB_CONTEXT

    number = DYNAMODB_CONTEXT.create_decimal(text)
    return int(number) if number == number.to_integral_value() else number


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    if isinstance(value, set):
        return {_from_dynamo(v) for v in value}
    return value


class ConditionFailed(Exception):
    """A conditional write found the item in another state than required (`old`: that item, when asked for)."""

    def __init__(self, message: str, old: Item | None = None) -> None:
        super().__init__(message)
        self.old = old


class Throttled(Exception):
    """DynamoDB refused a transaction for capacity (ThrottlingError on an item), no condition having failed: nothing
    was written, and the same request may be sent again later (the API answers 503 with Retry-After)."""


class TransactionCancelled(Exception):
    def __init__(self, reasons: Sequence[Mapping[str, Any]]) -> None:
        super().__init__(f"transaction cancelled: {[reason.get('Code') for reason in reasons]}")
        self.reasons = list(reasons)

    def failed_positions(self) -> list[int]:
        """Positions (in the order given to `transact`) of the operations whose condition failed."""
        return [i for i, reason in enumerate(self.reasons) if reason.get("Code") == "ConditionalCheckFailed"]

    def old_item(self, position: int) -> Item | None:
        """The item as it was at `position`, when that operation asked for it (`return_old_on_failure`)."""
        raw = self.reasons[position].get("Item") if position < len(self.reasons) else None
        return deserialize(raw) if raw else None

    def conflicted(self) -> bool:
        """Another transaction was writing the same items: nothing failed, retrying may pass."""
        return any(reason.get("Code") == "TransactionConflict" for reason in self.reasons)


@dataclass(frozen=True)
class Expression:
    """A condition or update expression with its `#name` and `:value` placeholders (values as Python values)."""

    text: str
    names: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Put:
    item: Item
    condition: Expression | None = None


@dataclass(frozen=True)
class Update:
    key: Item
    update: Expression
    condition: Expression | None = None
    return_old_on_failure: bool = False  # the item as it was, in TransactionCancelled, when the condition fails


@dataclass(frozen=True)
class Delete:
    key: Item
    condition: Expression | None = None


@dataclass(frozen=True)
class ConditionCheck:
    key: Item
    condition: Expression


Operation = Put | Update | Delete | ConditionCheck

ITEM_IS_NEW = Expression("attribute_not_exists(#pk)", {"#pk": PK})
ITEM_EXISTS = Expression("attribute_exists(#pk)", {"#pk": PK})


@dataclass(frozen=True)
class Page:
    items: list[Item]
    next_cursor: str | None


class Unprocessed(RuntimeError):
    """DynamoDB kept leaving part of a batch unprocessed (throttled) through every retry."""


# Unprocessed items and keys of a batch: retried with exponential backoff and full jitter, as AWS advises (a throttled
# partition needs time, not an immediate retry): at most 50, 100, 200… ms, 6 retries, about 3 s in all at worst.
BATCH_RETRIES, BATCH_BACKOFF_SECONDS = 6, 0.05


class Table:
    def __init__(self, client: DynamoDBClient, name: str, *, sleep: Any = time.sleep) -> None:
        self._client = client
        self.name = name
        self._sleep = sleep

    def _backoff(self, attempt: int) -> None:
        if attempt >= BATCH_RETRIES:
            raise Unprocessed(f"{self.name}: part of a batch still unprocessed after {BATCH_RETRIES} retries")
        self._sleep(random.uniform(0, BATCH_BACKOFF_SECONDS * 2**attempt))  # noqa: S311 - jitter, not a secret

    # -- reads -------------------------------------------------------------------------------------------------
    def get(self, item_key: Item, *, consistent: bool = False, attributes: Sequence[str] | None = None) -> Item | None:
        """The item, or only the named attributes of it."""
        projection: dict[str, Any] = {}
        if attributes:
            names = {f"#p{i}": name for i, name in enumerate(attributes)}
            projection = {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
        answer = self._client.get_item(
            TableName=self.name, Key=serialize(item_key), ConsistentRead=consistent, **projection
        )
        raw = answer.get("Item")
        return deserialize(raw) if raw else None

    def batch_get(self, keys: Sequence[Item]) -> list[Item]:
        """The items that exist, 100 keys a round trip (unprocessed keys retried); the order is not guaranteed."""
        unique = list({(k[PK], k[SK]): k for k in keys}.values())
        found: list[Item] = []
        for start in range(0, len(unique), 100):
            pending: dict[str, Any] = {self.name: {"Keys": [serialize(k) for k in unique[start : start + 100]]}}
            for attempt in range(BATCH_RETRIES + 1):
                answer = self._client.batch_get_item(RequestItems=pending)
                found.extend(deserialize(raw) for raw in answer.get("Responses", {}).get(self.name, []))
                pending = dict(answer.get("UnprocessedKeys") or {})
                if not pending:
                    break
                self._backoff(attempt)
        return found

    def query_all(self, partition: str, *, index: str | None = None, sort_prefix: str | None = None) -> list[Item]:
        """Every item of a (bounded) partition or prefix, following DynamoDB's pages."""
        items: list[Item] = []
        cursor: str | None = None
        while True:
            page = self.query(partition, index=index, sort_prefix=sort_prefix, limit=1000, cursor=cursor)
            items.extend(page.items)
            if page.next_cursor is None:
                return items
            cursor = page.next_cursor

    def query(
        self,
        partition: str,
        *,
        index: str | None = None,
        sort_prefix: str | None = None,
        sort_between: tuple[str, str] | None = None,
        limit: int = 20,
        cursor: str | None = None,
        newest_first: bool = False,
        filter_: Expression | None = None,
    ) -> Page:
        """One page. With `filter_`, DynamoDB filters after reading `limit` items: a page may hold fewer (or none)
        while `next_cursor` says more may follow."""
        pk_name, sk_name = INDEX_KEYS[index]
        condition = "#pk = :pk"
        names = {"#pk": pk_name}
        values: dict[str, Any] = {":pk": partition}
        if sort_prefix is not None:
            condition += " AND begins_with(#sk, :prefix)"
            names["#sk"] = sk_name
            values[":prefix"] = sort_prefix
        elif sort_between is not None:
            condition += " AND #sk BETWEEN :low AND :high"
            names["#sk"] = sk_name
            values[":low"], values[":high"] = sort_between
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialize(values),
            "Limit": limit,
            "ScanIndexForward": not newest_first,
        }
        if index is not None:
            request["IndexName"] = index
        if filter_ is not None:
            request["FilterExpression"] = filter_.text
            names.update(filter_.names)
            request["ExpressionAttributeValues"] = serialize({**values, **filter_.values})
        if cursor:
            request["ExclusiveStartKey"] = serialize(decode_cursor(cursor, index=index, partition=partition))
        answer = self._client.query(**request)
        last = answer.get("LastEvaluatedKey")
        items = [deserialize(raw) for raw in answer.get("Items", [])]
        return Page(items=items, next_cursor=encode_cursor(deserialize(last)) if last else None)

    # -- writes ------------------------------------------------------------------------------------------------
    def put(self, item: Item, *, condition: Expression | None = None) -> None:
        request: dict[str, Any] = {"TableName": self.name, "Item": serialize(item)}
        request.update(_expression_fields(condition, "ConditionExpression"))
        try:
            self._client.put_item(**request)
        except self._client.exceptions.ConditionalCheckFailedException as error:
            raise ConditionFailed(str(error)) from error

    def put_many(self, items: Sequence[Item]) -> None:
        """Unconditional puts, 25 a round trip (unprocessed items retried): bulk loads such as the catalogue."""
        for start in range(0, len(items), 25):
            pending: dict[str, Any] = {
                self.name: [{"PutRequest": {"Item": serialize(item)}} for item in items[start : start + 25]]
            }
            for attempt in range(BATCH_RETRIES + 1):
                answer = self._client.batch_write_item(RequestItems=pending)
                pending = dict(answer.get("UnprocessedItems") or {})
                if not pending:
                    break
                self._backoff(attempt)

    def update(
        self,
        item_key: Item,
        update: Expression,
        *,
        condition: Expression | None = None,
        return_old_on_failure: bool = False,
        return_new: bool = True,
    ) -> Item:
        """Applies an update expression and returns the item as it is after the update (an empty item when not
        `return_new`). A failed condition raises ConditionFailed, with the item as it was if `return_old_on_failure`."""
        request: dict[str, Any] = {
            "TableName": self.name,
            "Key": serialize(item_key),
            "UpdateExpression": update.text,
            "ReturnValues": "ALL_NEW" if return_new else "NONE",
        }
        request.update(_merged_expression_fields(update, condition))
        if condition is not None:
            request["ConditionExpression"] = condition.text
        if return_old_on_failure:
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        try:
            answer = self._client.update_item(**request)
        except self._client.exceptions.ConditionalCheckFailedException as error:
            raw: Any = error.response.get("Item")
            raise ConditionFailed(str(error), deserialize(raw) if raw else None) from error
        return deserialize(answer.get("Attributes", {}))

    def transact(self, operations: Sequence[Operation]) -> None:
        """All or nothing (at most 100 operations). Raises TransactionCancelled naming the failed positions."""
        if not 0 < len(operations) <= 100:
            raise ValueError("a transaction takes 1 to 100 operations")
        try:
            items: Any = [self._transact_item(op) for op in operations]
            self._client.transact_write_items(TransactItems=items)
        except self._client.exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons", [])
            codes = {reason.get("Code") for reason in reasons}
            if "ThrottlingError" in codes and "ConditionalCheckFailed" not in codes:
                raise Throttled(str(error)) from error
            raise TransactionCancelled(reasons) from error

    def _transact_item(self, operation: Operation) -> dict[str, Any]:
        body: dict[str, Any] = {"TableName": self.name}
        if isinstance(operation, Update) and operation.return_old_on_failure:
            body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        if isinstance(operation, Put):
            body["Item"] = serialize(operation.item)
            body.update(_expression_fields(operation.condition, "ConditionExpression"))
            return {"Put": body}
        if isinstance(operation, Update):
            body["Key"] = serialize(operation.key)
            body["UpdateExpression"] = operation.update.text
            body.update(_merged_expression_fields(operation.update, operation.condition))
            if operation.condition is not None:
                body["ConditionExpression"] = operation.condition.text
            return {"Update": body}
        if isinstance(operation, Delete):
            body["Key"] = serialize(operation.key)
            body.update(_expression_fields(operation.condition, "ConditionExpression"))
            return {"Delete": body}
        body["Key"] = serialize(operation.key)
        body.update(_expression_fields(operation.condition, "ConditionExpression"))
        return {"ConditionCheck": body}


def _expression_fields(expression: Expression | None, field_name: str) -> dict[str, Any]:
    if expression is None:
        return {}
    fields: dict[str, Any] = {field_name: expression.text}
    if expression.names:
        fields["ExpressionAttributeNames"] = dict(expression.names)
    if expression.values:
        fields["ExpressionAttributeValues"] = serialize(expression.values)
    return fields


def _merged_expression_fields(update: Expression, condition: Expression | None) -> dict[str, Any]:
    names = dict(update.names)
    values = dict(update.values)
    if condition is not None:
        names.update(condition.names)
        values.update(condition.values)
    fields: dict[str, Any] = {}
    if names:
        fields["ExpressionAttributeNames"] = names
    if values:
        fields["ExpressionAttributeValues"] = serialize(values)
    return fields


# -- cursors -----------------------------------------------------------------------------------------------------
def encode_cursor(last_evaluated_key: Mapping[str, Any]) -> str:
    text = json.dumps(dict(last_evaluated_key), sort_keys=True, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, index: str | None, partition: str) -> Item:
    """The start key a cursor stands for; refuses cursors that are malformed or were issued for another list. A start
    key is exactly the table's key and the index's, all strings (DynamoDB refuses anything else with a 400 that would
    otherwise reach the caller as a 500)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        start = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise BadRequest("The cursor is not valid.", code="INVALID_CURSOR") from error
    partition_name = INDEX_KEYS[index][0]
    if not isinstance(start, dict) or start.get(partition_name) != partition:
        raise BadRequest("The cursor does not belong to this list.", code="INVALID_CURSOR")
    if set(start) != {PK, SK, *INDEX_KEYS[index]} or not all(isinstance(value, str) for value in start.values()):
        raise BadRequest("The cursor is not valid.", code="INVALID_CURSOR")
    return start
