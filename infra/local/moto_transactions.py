"""DynamoDB transactions on the local stack at AWS's cost: proportional to the transaction, not to the table.

moto 5.2's `transact_write_items` deep-copies the WHOLE table once per operation before writing, to roll back on a
failure (pitfalls.md: 20 transactions/s at ~90 items, 8/s at ~500). A stock import of 100 000 lines writes 2 000
transactions of 100 operations into a table of 200 000 items: hours on moto, seconds on AWS. This replaces it with
what AWS does: every condition is evaluated against the state before the transaction (the operations target distinct
items, so the order does not matter), nothing is written unless all hold, and only the targeted items are copied to
undo an operation that fails while it is applied (an invalid update expression).

Kept from moto: the limit of 100 operations, one operation per item (ValidationException), the cancellation reasons
by position (`ConditionalCheckFailed`, with the old item when `ReturnValuesOnConditionCheckFailure` is ALL_OLD),
stream records for the applied writes. Tested in tests/integration/test_moto_transactions.py.
"""

from __future__ import annotations

import copy
from typing import Any

INSTALLED = "_passculture_transactions"


def install() -> None:
    """Idempotent; affects moto in this process (in-process `mock_aws` and the embedded server alike)."""
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, INSTALLED, False):
        return
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign,assignment]
    setattr(DynamoDBBackend, INSTALLED, True)


def _transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    from moto.dynamodb.exceptions import (
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    targets: set[tuple[str, str]] = set()
    reasons: list[tuple[Any, Any, Any]] = []
    planned: list[tuple[str, dict[str, Any], str, dict[str, Any], Any]] = []
    for transact_item in transact_items:
        if len(transact_item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(transact_item.items()))
        try:
            table_name, key = _target(backend, op_type, op)
            marker = (str(table_name), str(dict(sorted(key.items()))))
            if marker in targets:
                raise MultipleTransactionsException()
            targets.add(marker)
            current = backend.get_item(table_name, key)
            reasons.append(_condition_failure(op, current))
            planned.append((op_type, op, table_name, key, copy.deepcopy(current)))
        except (MultipleTransactionsException, MockValidationException):
            raise
        except Exception as error:  # moto reports any other failure as the operation's reason, as before
            reasons.append((type(error).__name__, str(error), None))
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)

    applied: list[tuple[str, dict[str, Any], Any]] = []
    for position, (op_type, op, table_name, key, before) in enumerate(planned):
        try:
            _apply(backend, op_type, op, table_name, key)
        except Exception as error:
            for undo_table, undo_key, undo_item in reversed(applied):
                _restore(backend, undo_table, undo_key, undo_item)
            if isinstance(error, MockValidationException):
                raise  # as moto answers it: a ValidationException for the whole request
            failed: list[tuple[Any, Any, Any]] = [(None, None, None)] * len(planned)
            failed[position] = (type(error).__name__, str(error), None)
            raise TransactionCanceledException(failed) from error
        applied.append((table_name, key, before))


def _target(backend: Any, op_type: str, op: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
        raise ValueError("Unsupported transaction operation")
    table_name = op["TableName"]
    if op_type != "Put":
        return table_name, op["Key"]
    table = backend.get_table(table_name)
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return table_name, key


def _condition_failure(op: dict[str, Any], current: Any) -> tuple[Any, Any, Any]:
    from moto.dynamodb.comparisons import get_filter_expression

    expression = op.get("ConditionExpression")
    if expression is None:
        return (None, None, None)
    condition = get_filter_expression(
        expression, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    )
    if condition.expr(current):
        return (None, None, None)
    old = None
    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
        old = current.to_json()["Attributes"]
    return ("ConditionalCheckFailed", "The conditional request failed", old)


def _apply(backend: Any, op_type: str, op: dict[str, Any], table_name: str, key: dict[str, Any]) -> None:
    """The write alone: its condition held before the transaction, and nothing else in it touches this item."""
    names = op.get("ExpressionAttributeNames")
    values = op.get("ExpressionAttributeValues")
    if op_type == "Put":
        backend.put_item(table_name, op["Item"])
    elif op_type == "Delete":
        backend.delete_item(table_name, key)
    elif op_type == "Update":
        backend.update_item(
            table_name,
            key,
            update_expression=op["UpdateExpression"],
            expression_attribute_names=names,
            expression_attribute_values=values,
        )


def _restore(backend: Any, table_name: str, key: dict[str, Any], before: Any) -> None:
    if before is None:
        backend.delete_item(table_name, key)
    else:
        backend.put_item(table_name, before.to_json()["Attributes"])
