"""The notifications function: stream records in, SES messages out, each once; failures reported per record."""

from __future__ import annotations

import email
import email.policy
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


def test_a_failed_send_is_reported_for_that_record_only(notifications: Any, moto_stack: Any) -> None:
    boto3.client("ses", region_name="eu-west-3").delete_identity(Identity="passculture.example")  # SES now refuses
    account = {"PK": "OFFERER#o1", "SK": "BANK_ACCOUNT", "entity": "BANK_ACCOUNT", "iban": "FR7630006000011234567890189",
               "label": "Compte", "notifyEmail": "pro@example.org"}  # fmt: skip
    event = {
        "Records": [
            stream_record("200", {"PK": "OFFERER#o1", "SK": "PROFILE", "entity": "OFFERER"}),
            stream_record("201", {**account, "status": "ACCEPTED"}, {**account, "status": "PENDING"}),
        ]
    }
    answer = notifications.lambda_handler(event, FakeContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": "201"}]}
    assert sent_messages() == []
    boto3.client("ses", region_name="eu-west-3").verify_domain_identity(Domain="passculture.example")
    assert notifications.lambda_handler(event, FakeContext()) == {"batchItemFailures": []}  # the retry sends it
    (message,) = sent_messages()
    assert message["Subject"] == "Vos coordonnées bancaires ont été validées"
