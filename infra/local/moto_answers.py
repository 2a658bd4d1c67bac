"""moto's DynamoDB answers that carry items, written as DynamoDB writes them: JSON of the items as they are (binary
values in base64). moto 5.2's generic response serializer walks botocore's model for every attribute value of every
item it answers: measured, 60 % of a payout batch's time in moto and two thirds of the embedded AWS's busy time under
`make load` (py-spy). What the answers say does not change, only moto's cost of saying it; the other operations keep
moto's serializer. Installed by the local stack (`embedded_aws.provision`) and the benchmarks."""

from __future__ import annotations

import base64
import json
from typing import Any

ITEM_ANSWERS = frozenset(
    {"GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems",
     "TransactGetItems", "BatchWriteItem"}
)  # fmt: skip


def _wire(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"not JSON: {type(value).__name__}")


def install() -> None:
    """Idempotent; affects moto in this process (in-process `mock_aws` and the embedded server alike)."""
    from moto.dynamodb.responses import DynamoResult

    original = DynamoResult.execute_result
    if getattr(original, "_plain", False):
        return

    def execute_result(result: Any, context: Any) -> Any:
        if context.operation_model.name not in ITEM_ANSWERS:
            return original(result, context)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(result.result, default=_wire)

    execute_result._plain = True  # type: ignore[attr-defined]
    DynamoResult.execute_result = execute_result  # type: ignore[method-assign,assignment]
