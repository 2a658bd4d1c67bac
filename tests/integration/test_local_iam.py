"""IAM enforced in the embedded AWS: a function's credentials are an STS session of its role (moto's IAM), and a call
its role does not grant is refused as AWS refuses it — including an action inside a transaction, which moto alone
lets through (it checks the operation name only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from infra.local.embedded_aws import ACCOUNT_ID, REGION, STACK_NAME, EmbeddedAws, Provisioned
from infra.local.iam import Grant, LocalIam, function_grants, read_roles
from pass_culture import dynamo


def without(grants: list[Grant], action: str) -> list[Grant]:
    """The role as it was before the grant was added."""

    def drop(statement: Any) -> Any:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        return {**statement, "Action": [a for a in actions if a != action]}

    return [grant if grant.managed else Grant(grant.policy, grant.index, drop(grant.statement)) for grant in grants]


def credentials_of(aws: EmbeddedAws, provisioned: Provisioned, tmp_path: Path, **changes: Any) -> Any:
    roles = read_roles()
    grants = {**function_grants(roles, provisioned.resolver.resolve), **changes}
    iam = LocalIam(grants, tmp_path / "iam-calls.jsonl")
    iam.install(ACCOUNT_ID)
    return iam.create_roles(aws.client("iam"), aws.client("sts"), STACK_NAME, roles)


def client(aws: EmbeddedAws, service: str, credentials: dict[str, str]) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service, endpoint_url=aws.endpoint, region_name=REGION, aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"], aws_session_token=credentials["AWS_SESSION_TOKEN"],
    )  # fmt: skip


def cancellation(table: dynamo.Table) -> list[Any]:
    """What a venue's cancellation writes: the booking updated, its one-per-offer lock deleted."""
    booking, lock = dynamo.key("BOOKING#1", "BOOKING"), dynamo.key("USER#1", "ACTIVE#OFFER#1")
    return [
        dynamo.Update(booking, dynamo.Expression("SET #s = :c", names={"#s": "status"}, values={":c": "CANCELLED"})),
        dynamo.Delete(lock),
    ]


def seed(aws: EmbeddedAws, provisioned: Provisioned) -> dynamo.Table:
    table = dynamo.Table(aws.client("dynamodb"), provisioned.ref("Table"))  # the stack's own keys: not checked
    table.put({**dynamo.key("BOOKING#1", "BOOKING"), "status": "CONFIRMED"})
    table.put(dynamo.key("USER#1", "ACTIVE#OFFER#1"))
    return table


def test_a_transaction_with_a_delete_the_role_does_not_grant_is_refused_and_writes_nothing(
    embedded: tuple[EmbeddedAws, Provisioned], tmp_path: Path
) -> None:
    aws, provisioned = embedded
    before = without(function_grants(read_roles(), provisioned.resolver.resolve)["CounterApiFunction"],
                     "dynamodb:DeleteItem")  # fmt: skip
    credentials = credentials_of(aws, provisioned, tmp_path, CounterApiFunction=before)["CounterApiFunction"]
    stack_table = seed(aws, provisioned)
    counter = dynamo.Table(client(aws, "dynamodb", credentials), stack_table.name)

    with pytest.raises(ClientError) as refused:
        counter.transact(cancellation(counter))
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "dynamodb:DeleteItem" in refused.value.response["Error"]["Message"]
    assert "assumed-role" in refused.value.response["Error"]["Message"]
    booking = stack_table.get(dynamo.key("BOOKING#1", "BOOKING"))
    assert booking is not None and booking["status"] == "CONFIRMED"  # nothing half-written
    decisions = [json.loads(line) for line in (tmp_path / "iam-calls.jsonl").read_text().splitlines()]
    assert [(d["action"], d["allowed"]) for d in decisions] == [
        ("dynamodb:UpdateItem", True), ("dynamodb:DeleteItem", False)
    ]  # fmt: skip


def test_the_template_role_grants_the_cancellation(embedded: tuple[EmbeddedAws, Provisioned], tmp_path: Path) -> None:
    aws, provisioned = embedded
    credentials = credentials_of(aws, provisioned, tmp_path)["CounterApiFunction"]
    stack_table = seed(aws, provisioned)
    counter = dynamo.Table(client(aws, "dynamodb", credentials), stack_table.name)
    counter.transact(cancellation(counter))
    booking = stack_table.get(dynamo.key("BOOKING#1", "BOOKING"))
    assert booking is not None and booking["status"] == "CANCELLED"
    assert stack_table.get(dynamo.key("USER#1", "ACTIVE#OFFER#1")) is None


def test_a_presigned_link_works_only_signed_by_a_role_that_may_read_the_file(
    embedded: tuple[EmbeddedAws, Provisioned], tmp_path: Path
) -> None:
    aws, provisioned = embedded
    credentials = credentials_of(aws, provisioned, tmp_path)
    bucket = provisioned.ref("FilesBucket")
    aws.client("s3").put_object(Bucket=bucket, Key="payouts/2026-11-16/statement.pdf", Body=b"%PDF")

    def link(function: str) -> str:
        s3 = client(aws, "s3", credentials[function])
        return str(s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "payouts/2026-11-16/statement.pdf"}, ExpiresIn=60
        ))  # fmt: skip

    assert requests.get(link("CounterApiFunction"), timeout=10).content == b"%PDF"
    refused = requests.get(link("BookingsApiFunction"), timeout=10)
    assert refused.status_code == 403
    assert b"AccessDenied" in refused.content
