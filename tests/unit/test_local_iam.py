"""The local IAM check (infra/local/iam.py): what a request asks AWS to authorise, and how a role's statements decide."""

from __future__ import annotations

import json
from typing import Any

from infra.local.iam import Action, Grant, decide, requested_actions

TABLE = "arn:aws:dynamodb:eu-west-3:123456789012:table/T"


def schema(table: str, index: str | None) -> str | None:
    return {None: "PK", "GSI1": "GSI1PK"}.get(index)


def dynamodb(operation: str, body: dict[str, Any]) -> list[Action]:
    headers = {"X-Amz-Target": f"DynamoDB_20120810.{operation}"}
    return requested_actions("dynamodb", "POST", "/", headers, json.dumps(body).encode(), {}, "eu-west-3",
                             "123456789012", schema)  # fmt: skip


def grants(*statements: dict[str, Any]) -> list[Grant]:
    return [Grant("policy", i, statement) for i, statement in enumerate(statements)]


def test_a_transaction_is_authorised_as_its_inner_actions_each_with_its_partition_key() -> None:
    actions = dynamodb("TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "T", "Item": {"PK": {"S": "BOOKING#1"}, "SK": {"S": "BOOKING"}}}},
        {"Update": {"TableName": "T", "Key": {"PK": {"S": "OFFER#1"}, "SK": {"S": "STOCK#1"}}}},
        {"Delete": {"TableName": "T", "Key": {"PK": {"S": "USER#1"}, "SK": {"S": "LOCK#OFFER#1"}}}},
        {"ConditionCheck": {"TableName": "T", "Key": {"PK": {"S": "OFFERER#1"}, "SK": {"S": "OFFERER"}}}},
    ]})  # fmt: skip
    assert [(a.name, a.resource, a.leading_keys) for a in actions] == [
        ("dynamodb:PutItem", TABLE, ("BOOKING#1",)),
        ("dynamodb:UpdateItem", TABLE, ("OFFER#1",)),
        ("dynamodb:DeleteItem", TABLE, ("USER#1",)),
        ("dynamodb:ConditionCheckItem", TABLE, ("OFFERER#1",)),
    ]


def test_a_role_without_delete_item_is_refused_the_cancellation_transaction() -> None:
    """The blocker moto alone missed: it checks `TransactWriteItems`, AWS checks every inner action."""
    role = grants({"Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem"], "Resource": TABLE})
    actions = dynamodb("TransactWriteItems", {"TransactItems": [
        {"Update": {"TableName": "T", "Key": {"PK": {"S": "BOOKING#1"}, "SK": {"S": "BOOKING"}}}},
        {"Delete": {"TableName": "T", "Key": {"PK": {"S": "USER#1"}, "SK": {"S": "LOCK"}}}},
    ]})  # fmt: skip
    assert [decide(role, action) is not None for action in actions] == [True, False]


def test_a_query_on_an_index_is_authorised_on_the_index_with_the_index_partition() -> None:
    (action,) = dynamodb("Query", {
        "TableName": "T", "IndexName": "GSI1", "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :p)",
        "ExpressionAttributeNames": {"#pk": "GSI1PK", "#sk": "GSI1SK"},
        "ExpressionAttributeValues": {":pk": {"S": "VENUE#1"}, ":p": {"S": "2026"}},
    })  # fmt: skip
    assert (action.resource, action.leading_keys) == (f"{TABLE}/index/GSI1", ("VENUE#1",))
    table_only = grants({"Effect": "Allow", "Action": "dynamodb:Query", "Resource": TABLE})
    assert decide(table_only, action) is None
    assert decide(grants({"Effect": "Allow", "Action": "dynamodb:Query", "Resource": f"{TABLE}/index/*"}), action)


def test_leading_keys_scope_a_grant_to_one_entity_family() -> None:
    scoped = grants({"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:BatchGetItem"], "Resource": TABLE,
                     "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["NOTIFIED#*"]}}})  # fmt: skip
    own = dynamodb("GetItem", {"TableName": "T", "Key": {"PK": {"S": "NOTIFIED#b1"}, "SK": {"S": "E"}}})
    other = dynamodb("GetItem", {"TableName": "T", "Key": {"PK": {"S": "USER#1"}, "SK": {"S": "PROFILE"}}})
    mixed = dynamodb("BatchGetItem", {"RequestItems": {"T": {"Keys": [
        {"PK": {"S": "NOTIFIED#b1"}, "SK": {"S": "E"}}, {"PK": {"S": "USER#1"}, "SK": {"S": "PROFILE"}}]}}})  # fmt: skip
    assert decide(scoped, own[0]) is not None
    assert decide(scoped, other[0]) is None
    assert decide(scoped, mixed[0]) is None  # every key must match


def test_an_explicit_deny_wins_and_wildcards_match_as_iam_does() -> None:
    role = grants(
        {"Effect": "Allow", "Action": "dynamodb:*Item", "Resource": "arn:aws:dynamodb:*:*:table/*"},
        {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": TABLE},
    )
    get, delete = (dynamodb(op, {"TableName": "T", "Key": {"PK": {"S": "A"}}})[0] for op in ("GetItem", "DeleteItem"))
    assert decide(role, get) == role[0]
    assert decide(role, delete) is None


def test_a_condition_the_local_check_does_not_know_makes_the_allow_not_apply() -> None:
    role = grants({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE,
                   "Condition": {"Bool": {"aws:SecureTransport": "true"}}})  # fmt: skip
    assert decide(role, dynamodb("GetItem", {"TableName": "T", "Key": {"PK": {"S": "A"}}})[0]) is None


def test_other_services_name_their_actions_and_resources_as_aws_does() -> None:
    def request(service: str, target: str | None, body: dict[str, Any], form: dict[str, str] | None = None,
                method: str = "POST", path: str = "/") -> Action:  # fmt: skip
        headers = {"X-Amz-Target": target} if target else {}
        (action,) = requested_actions(service, method, path, headers, json.dumps(body).encode(), form or {},
                                      "eu-west-3", "123456789012", schema)  # fmt: skip
        return action

    queue = "http://127.0.0.1:5000/123456789012/PayoutsQueue"
    send = request("sqs", "AmazonSQS.SendMessageBatch", {"QueueUrl": queue, "Entries": []})
    assert (send.name, send.resource) == ("sqs:SendMessage", "arn:aws:sqs:eu-west-3:123456789012:PayoutsQueue")
    put = request("s3", None, {}, method="PUT", path="/files/payouts/2026-11-16/sepa.xml")
    assert (put.name, put.resource) == ("s3:PutObject", "arn:aws:s3:::files/payouts/2026-11-16/sepa.xml")
    ses = request("ses", None, {}, {"Action": "SendRawEmail", "Source": "pass Culture <no-reply@pass.example>"})
    assert ses.name == "ses:SendRawEmail"
    assert ses.resources == ("arn:aws:ses:eu-west-3:123456789012:identity/no-reply@pass.example",
                             "arn:aws:ses:eu-west-3:123456789012:identity/pass.example")  # fmt: skip
    cognito = request("cognito-idp", "AWSCognitoIdentityProviderService.AdminAddUserToGroup", {"UserPoolId": "p1"})
    assert cognito.resource == "arn:aws:cognito-idp:eu-west-3:123456789012:userpool/p1"


def test_the_e2e_comparison_finds_denied_calls_and_unused_grants(tmp_path: Any) -> None:
    from tests.e2e import iam_grants

    statement = {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:DeleteItem"], "Resource": TABLE}
    grants = {"F": [{"policy": "FRolePolicy0", "index": 0, "statement": statement, "managed": False}]}
    calls = [
        {"function": "F", "action": "dynamodb:GetItem", "resource": TABLE, "allowed": True},
        {"function": "F", "action": "dynamodb:PutItem", "resource": TABLE, "allowed": False},
    ]
    assert iam_grants.denied(calls) == [f"denied in AWS too: F: dynamodb:PutItem on {TABLE}"]
    first, second = tmp_path / "first", tmp_path / "second"
    for log_dir, made in ((first, calls), (second, [])):
        log_dir.mkdir()
        (log_dir / "iam-grants.json").write_text(json.dumps(grants))
        (log_dir / "iam-calls.jsonl").write_text("".join(json.dumps(call) + "\n" for call in made))
    assert iam_grants.unused([first]) == [f"never used: F FRolePolicy0 dynamodb:DeleteItem on {TABLE}"]
    # a grant another stack used is used (each stack's pool has its own random id: judged against its own grants)
    assert iam_grants.unused([second, first]) == [f"never used: F FRolePolicy0 dynamodb:DeleteItem on {TABLE}"]
    assert sorted(iam_grants.unused([second])) == sorted(
        f"never used: F FRolePolicy0 {action} on {TABLE}" for action in ("dynamodb:GetItem", "dynamodb:DeleteItem")
    )
