"""The notifications function: stream records in, SES messages out, each once; failures reported per record."""

from __future__ import annotations

import email
import email.policy
import json
from typing import Any

import boto3
import pytest
from moto.ses.models import ses_backends

from pass_culture import dynamo
from tests.events import FakeContext

MOTO_ACCOUNT_ID = "123456789012"  # moto's default account
BENEFICIARY = {
    "PK": "USER#u1",
    "SK": "PROFILE",
    "entity": "BENEFICIARY",
    "id": "u1",
    "email": "jeanne@example.org",
    "firstName": "Jeanne",
    "creditInitialCents": 30000,
    "creditExpiresAt": "2028-11-23T12:00:00.000Z",
}


def stream_record(event_id: str, new: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    image = dynamo.serialize(new)
    change: dict[str, Any] = {
        "Keys": {"PK": image["PK"], "SK": image["SK"]},
        "NewImage": image,
        "SequenceNumber": event_id,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old:
        change["OldImage"] = dynamo.serialize(old)
    return {
        "eventID": event_id,
        "eventName": "MODIFY" if old else "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": change,
    }


def sent_messages() -> list[email.message.EmailMessage]:
    backend = ses_backends[MOTO_ACCOUNT_ID]["eu-west-3"]
    return [email.message_from_string(m.raw_data, policy=email.policy.default) for m in backend.sent_messages]


@pytest.fixture
def notifications(deployed: Any) -> Any:
    return deployed("NotificationsFunction")


def test_a_registered_beneficiary_is_welcomed_once_even_when_the_record_is_replayed(notifications: Any) -> None:
    event = {"Records": [stream_record("100", BENEFICIARY)]}
    assert notifications.lambda_handler(event, FakeContext()) == {"batchItemFailures": []}
    assert notifications.lambda_handler(event, FakeContext()) == {"batchItemFailures": []}  # replayed
    (message,) = sent_messages()
    assert message["To"] == "jeanne@example.org"
    assert message["From"] == "pass Culture <no-reply@passculture.example>"
    assert message["Subject"] == "Bienvenue sur le pass Culture, Jeanne !"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and "300,00" in text.get_content()
    assert html is not None and "<strong>23/11/2028</strong>" in html.get_content()


def queue(moto_stack: Any, logical_id: str) -> str:
    return str(moto_stack.ref(logical_id))  # an SQS queue's Ref is its URL


def drained(url: str) -> list[dict[str, Any]]:
    sqs, found = boto3.client("sqs", region_name="eu-west-3"), list[Any]()
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        found += batch
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """Lambda's SQS event for messages received from a queue."""
    return {"Records": [
        {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"], "attributes": {},
         "messageAttributes": {}, "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
         "awsRegion": "eu-west-3"}
        for m in messages
    ]}  # fmt: skip


ACCOUNT = {"PK": "OFFERER#o1", "SK": "BANK_ACCOUNT", "entity": "BANK_ACCOUNT", "iban": "FR7630006000011234567890189",
           "label": "Compte", "notifyEmail": "pro@example.org"}  # fmt: skip


def test_a_record_that_fails_is_parked_whole_and_a_redrive_sends_its_email_once(
    notifications: Any, moto_stack: Any
) -> None:
    from infra.ops import redrive

    boto3.client("ses", region_name="eu-west-3").delete_identity(Identity="passculture.example")  # SES now refuses
    failing = stream_record("201", {**ACCOUNT, "status": "ACCEPTED"}, {**ACCOUNT, "status": "PENDING"})
    event = {"Records": [stream_record("200", {"PK": "OFFERER#o1", "SK": "PROFILE", "entity": "OFFERER"}), failing]}
    # the batch goes on: the failed record is in the DLQ, whole, with the error's kind (not its text, which names
    # the recipients); the stream (24 h) is no longer needed to send it
    assert notifications.lambda_handler(event, FakeContext()) == {"batchItemFailures": []}
    assert sent_messages() == []
    dlq, redrive_queue = queue(moto_stack, "NotificationsDLQ"), queue(moto_stack, "NotificationsRedriveQueue")
    (parked,) = drained(dlq)
    body = json.loads(parked["Body"])
    assert body["parkedStreamRecord"] == failing
    assert body["reason"] == "ClientError MessageRejected"
    boto3.client("sqs", region_name="eu-west-3").send_message(QueueUrl=dlq, MessageBody=parked["Body"])

    boto3.client("ses", region_name="eu-west-3").verify_domain_identity(Domain="passculture.example")  # fixed
    assert redrive.main(["notifications", "--dlq", dlq, "--to", redrive_queue]) == 0
    assert drained(dlq) == []
    redriven = drained(redrive_queue)
    arn = moto_stack.attribute("NotificationsRedriveQueue", "Arn")
    assert notifications.lambda_handler(sqs_event(redriven, arn), FakeContext()) == {"batchItemFailures": []}
    assert notifications.lambda_handler(sqs_event(redriven, arn), FakeContext()) == {"batchItemFailures": []}
    (message,) = sent_messages()  # once, though delivered twice
    assert message["Subject"] == "Vos coordonnées bancaires ont été validées"


def test_a_record_that_cannot_even_be_parked_is_reported_for_lambda_to_retry(
    notifications: Any, moto_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    boto3.client("ses", region_name="eu-west-3").delete_identity(Identity="passculture.example")
    boto3.client("sqs", region_name="eu-west-3").delete_queue(QueueUrl=queue(moto_stack, "NotificationsDLQ"))
    failing = stream_record("201", {**ACCOUNT, "status": "ACCEPTED"}, {**ACCOUNT, "status": "PENDING"})
    event = {"Records": [stream_record("200", {"PK": "OFFERER#o1", "SK": "PROFILE", "entity": "OFFERER"}), failing]}
    assert notifications.lambda_handler(event, FakeContext()) == {"batchItemFailures": [{"itemIdentifier": "201"}]}


class Killed(BaseException):
    """The execution environment dying (a timeout, an out-of-memory): not an error the batch processor can catch."""


def test_a_function_killed_mid_batch_loses_no_email_and_doubles_none(notifications: Any) -> None:
    """Lambda retries the whole stream batch after a crash; what was sent before is recognised (its NOTIFIED# record)
    and not sent again, what was not is sent. (The one window left: a kill after SES accepted an email and before its
    record is written — one call wide — would send that email twice on the retry: SES takes no idempotency key.)"""
    people = [{**BENEFICIARY, "PK": f"USER#u{n}", "id": f"u{n}", "email": f"young{n}@example.org"} for n in range(4)]
    event = {"Records": [stream_record(str(300 + n), person) for n, person in enumerate(people)]}
    mailer = notifications.service()._mailer
    real_send, sends = mailer.send, []

    def dying_on_the_third(message: Any) -> None:
        sends.append(message["To"])
        if len(sends) == 3:
            raise Killed
        real_send(message)

    mailer.send = dying_on_the_third
    with pytest.raises(Killed):
        notifications.lambda_handler(event, FakeContext())
    assert sorted(m["To"] for m in sent_messages()) == ["young0@example.org", "young1@example.org"]
    mailer.send = real_send
    assert notifications.lambda_handler(event, FakeContext()) == {"batchItemFailures": []}  # Lambda's retry
    assert sorted(m["To"] for m in sent_messages()) == [f"young{n}@example.org" for n in range(4)]  # each once
