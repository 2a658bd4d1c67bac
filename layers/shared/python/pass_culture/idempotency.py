"""Client retries (`Idempotency-Key`) with Powertools idempotency, persisted in the one table.

Each record lives in its own partition (PK = the idempotency key's hash, SK fixed), not under Powertools' default
static partition: millions of young people retrying bookings must not share one hot partition. Powertools'
idempotency imports boto3: it is imported when the first idempotent request needs it (cold start)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from pass_culture.errors import BadRequest, Conflict, RuleRefused

PUT_TOKEN = "putToken"  # the in-progress record's writer (OwnPutRetries)
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
RETENTION_SECONDS = 24 * 3600
F = TypeVar("F", bound=Callable[..., Any])


def _persistence_layer(table_name: str, client: Any) -> Any:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    class SpreadKeyPersistenceLayer(DynamoDBPersistenceLayer):
        def _put_record(self, data_record: Any) -> None:
            # botocore sends a PutItem again when its answer was lost (a read timeout): the second attempt meets the
            # record the first one wrote, and Powertools would answer the request that wrote it "already in progress"
            # (a 409 to a first request, found by `make load`). The record carries this request's token, and the
            # condition lets the same token through: a retry of our own put succeeds, anyone else's still fails.
            client = self.client
            unwrapped = getattr(client, "unwrapped", client)  # never stacked
            self.client = OwnPutRetries(unwrapped, uuid.uuid4().hex)  # type: ignore[assignment]  # a client's stand-in
            try:
                super()._put_record(data_record)
            finally:
                self.client = client

        def _get_key(self, idempotency_key: str) -> dict[str, Any]:
            return {"PK": {"S": f"IDEMPOTENCY#{idempotency_key}"}, "SK": {"S": "IDEMPOTENCY"}}

        def _item_to_data_record(self, item: dict[str, Any]) -> Any:
            record = super()._item_to_data_record(item)
            record.idempotency_key = record.idempotency_key.removeprefix("IDEMPOTENCY#")
            return record

    return SpreadKeyPersistenceLayer(table_name=table_name, key_attr="PK", expiry_attr="ttl", boto3_client=client)


class OwnPutRetries:
    """A DynamoDB client whose PutItem stamps the item with a token and also succeeds where the item already holds
    that same token (so botocore's retry of a put that did land is not refused by its own first attempt)."""

    def __init__(self, client: Any, token: str) -> None:
        self._client, self._token = client, token

    @property
    def unwrapped(self) -> Any:
        return self._client

    def put_item(self, **request: Any) -> Any:
        stamped = {**request, "Item": {**request["Item"], PUT_TOKEN: {"S": self._token}}}
        if request.get("ConditionExpression"):
            stamped["ConditionExpression"] = f"({request['ConditionExpression']}) OR #put_token = :put_token"
            stamped["ExpressionAttributeNames"] = {
                **request.get("ExpressionAttributeNames", {}),
                "#put_token": PUT_TOKEN,
            }
            stamped["ExpressionAttributeValues"] = {
                **request.get("ExpressionAttributeValues", {}),
                ":put_token": {"S": self._token},
            }
        return self._client.put_item(**stamped)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class IdempotentRequests:
    """Makes a use case answer a retried request (same caller, same key) with its first answer, once.

    The decorated use case takes `request={"user", "key", "body"}`; a key reused with another body is refused."""

    def __init__(self, table_name: str, client: Any) -> None:
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

        # One persistence layer and config per idempotent use case (Powertools keeps per-function state in them).
        self._persistence = _persistence_layer(table_name, client)
        self.config = IdempotencyConfig(
            event_key_jmespath='["user", "key"]',
            payload_validation_jmespath="body",
            expires_after_seconds=RETENTION_SECONDS,
            raise_on_no_idempotency_key=True,
        )

    def wrap(self, use_case: F) -> F:
        from aws_lambda_powertools.utilities.idempotency import idempotent_function
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyValidationError,
        )

        wrapped = idempotent_function(
            data_keyword_argument="request", config=self.config, persistence_store=self._persistence
        )(use_case)

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return wrapped(*args, **kwargs)
            except IdempotencyValidationError as error:
                raise RuleRefused(
                    "This Idempotency-Key was used for another request.", code="IDEMPOTENCY_KEY_REUSED"
                ) from error
            except IdempotencyAlreadyInProgressError as error:
                raise Conflict(
                    "The first request with this Idempotency-Key is still running.", code="REQUEST_IN_PROGRESS"
                ) from error

        return call  # type: ignore[return-value]

    def per_request(
        self, use_case: Callable[..., Any], *, keyed: bool = False
    ) -> Callable[[Any, Any, str | None], Any]:
        """`use_case(caller, data)` made idempotent on (caller, Idempotency-Key); without a key it just runs. `keyed`:
        the use case takes the key too, `use_case(caller, data, key)` (None without one), to make its own writes
        idempotent on it — Powertools runs it again when its record could not be completed (the result's write
        failed after the use case had written) and its in-progress time is over."""

        def run(caller: Any, data: Any, key: str | None) -> Any:
            return use_case(caller, data, key) if keyed else use_case(caller, data)

        def for_request(request: dict[str, Any], caller: Any, data: Any) -> Any:
            return run(caller, data, request["key"])

        for_request.__qualname__ = getattr(use_case, "__qualname__", "use_case")  # names the records' key prefix
        once = self.wrap(for_request)

        def call(caller: Any, data: Any, idempotency_key: str | None) -> Any:
            if idempotency_key is None:
                return run(caller, data, None)
            body = data.model_dump(by_alias=True, mode="json")
            request = {"user": caller.user_id, "key": idempotency_key, "body": body}
            return once(request=request, caller=caller, data=data)

        return call


def valid_idempotency_key(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not KEY_PATTERN.match(raw):
        raise BadRequest("Idempotency-Key: 1 to 128 letters, digits or _ . : -", code="INVALID_IDEMPOTENCY_KEY")
    return raw
