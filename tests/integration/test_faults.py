"""Fault injection: AWS throttling and timeouts in front of the (moto) DynamoDB, at botocore's HTTP layer, so that
botocore's own retries run as they do in AWS. Once they are spent the API answers 503 with Retry-After, and nothing is
half-written (a write is one request or one transaction)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ReadTimeoutError
from moto.core.models import botocore_stubber

from tests.integration.booking_world import World


class Faults:
    """Answers `operation` with an AWS error (or a timeout) `times` times, in moto's place: the in-process moto is
    botocore's transport (its stubber answers every request at `before-send`), so the fault is put in front of it,
    and a faulted request never reaches the table."""

    def __init__(self, operation: str, *, code: str = "ThrottlingException", times: int = 100, **extra: Any) -> None:
        self.operation, self.code, self.left, self.extra, self.seen = operation, code, times, extra, 0
        self._moto = botocore_stubber.process_request
        botocore_stubber.process_request = self._process  # type: ignore[method-assign]

    def _process(self, request: Any) -> Any:
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else str(target)
        if self.left == 0 or not target.endswith(f".{self.operation}"):
            return self._moto(request)
        self.left -= 1
        self.seen += 1
        if self.code == "ReadTimeout":
            raise ReadTimeoutError(endpoint_url=request.url)
        body = {"__type": f"com.amazonaws.dynamodb.v20120810#{self.code}", "message": "Rate exceeded", **self.extra}
        headers = {"x-amzn-RequestId": "fault", "Content-Type": "application/x-amz-json-1.0"}
        return 400, headers, json.dumps(body).encode()  # what moto answers: status, headers, body

    def stop(self) -> None:
        botocore_stubber.process_request = self._moto  # type: ignore[method-assign]


def nothing_written(world: World, young: dict[str, str], stock: str) -> bool:
    return bool(world.stock(stock).get("bookedQuantity", 0) == 0 and world.credit(young).get("spentCents", 0) == 0)


def test_a_throttled_booking_is_retried_then_answered_503_and_writes_nothing(world: World) -> None:
    stock, young = world.offer("LIVRE_PAPIER", 1200, quantity=3), world.young()
    faults = Faults("TransactWriteItems")
    answer = world.book(young, stock)
    faults.stop()
    assert (answer.status, answer.body["code"]) == (503, "SERVICE_UNAVAILABLE")
    assert answer.headers["Retry-After"] == "1"
    assert faults.seen == 2  # botocore's standard mode tried twice (pass_culture/aws.py)
    assert nothing_written(world, young, stock)
    assert world.book(young, stock).status == 201  # the client's retry, once AWS takes it


def test_a_passing_throttle_is_absorbed_by_botocores_retry(world: World) -> None:
    stock, young = world.offer("LIVRE_PAPIER", 1200, quantity=3), world.young()
    faults = Faults("TransactWriteItems", times=1)
    answer = world.book(young, stock)
    faults.stop()
    assert answer.status == 201 and faults.seen == 1
    assert world.stock(stock)["bookedQuantity"] == 1 and world.credit(young)["spentCents"] == 1200


def test_a_transaction_cancelled_for_capacity_is_503_not_a_lost_race(world: World) -> None:
    """DynamoDB cancels a transaction whose item is throttled: no condition failed, the booking may be retried."""
    stock, young = world.offer("LIVRE_PAPIER", 1200, quantity=3), world.young()
    reasons = [{"Code": "None"}, {"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity"}]
    faults = Faults("TransactWriteItems", code="TransactionCanceledException", CancellationReasons=reasons)
    answer = world.book(young, stock)
    faults.stop()
    assert (answer.status, answer.headers.get("Retry-After")) == (503, "1")
    assert nothing_written(world, young, stock)


def test_reads_throttled_or_timing_out_are_503_too(world: World) -> None:
    young = world.young()
    for code in ("ProvisionedThroughputExceededException", "ReadTimeout"):
        faults = Faults("Query", code=code)
        answer = world.call("GET", "/me/bookings", claims=young)
        faults.stop()
        assert (answer.status, answer.body["code"], faults.seen) == (503, "SERVICE_UNAVAILABLE", 2), code
    assert world.call("GET", "/me/bookings", claims=young).status == 200


def test_a_booking_refused_by_a_concurrent_transaction_can_be_retried(world: World) -> None:
    """Another transaction held one of the items (TransactionConflict): no rule refused the booking."""
    stock, young = world.offer("LIVRE_PAPIER", 1200, quantity=3), world.young()
    reasons = [{"Code": "None"}, {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]
    faults = Faults("TransactWriteItems", code="TransactionCanceledException", CancellationReasons=reasons)
    answer = world.book(young, stock)
    faults.stop()
    assert (answer.status, answer.body["code"]) == (409, "BOOKING_CONFLICT")  # "please retry", as the contract says
    assert nothing_written(world, young, stock)
    assert world.book(young, stock).status == 201


def test_what_aws_could_not_take_now_is_told_apart_from_a_bug_or_a_rule() -> None:
    from botocore.exceptions import ClientError

    from pass_culture.dynamo import Throttled, TransactionCancelled
    from pass_culture.http import aws_unavailable

    def client_error(code: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": "x"}}, "PutItem")

    assert aws_unavailable(client_error("ProvisionedThroughputExceededException"))
    assert aws_unavailable(Throttled("capacity"))
    assert aws_unavailable(TransactionCancelled([{"Code": "None"}, {"Code": "TransactionConflict"}]))
    assert not aws_unavailable(
        TransactionCancelled([{"Code": "ConditionalCheckFailed"}, {"Code": "TransactionConflict"}])
    )
    assert not aws_unavailable(client_error("ValidationException"))
    assert not aws_unavailable(KeyError("a bug"))
    wrapped = RuntimeError("Failed to save in progress record to idempotency store")  # Powertools' idempotency
    wrapped.__cause__ = client_error("ThrottlingException")  # wraps the botocore error in its own (`make load`)
    assert aws_unavailable(wrapped)
