"""The local stack creates its resources from template.yaml: what is declared there is what exists here."""

from typing import Any

import boto3

from infra.local.template import load_template


def test_the_table_is_created_as_declared(moto_stack: Any) -> None:
    declared = load_template()["Resources"]["Table"]["Properties"]
    description = boto3.client("dynamodb", region_name="eu-west-3").describe_table(TableName=moto_stack.ref("Table"))
    table = description["Table"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {
        i["IndexName"] for i in declared["GlobalSecondaryIndexes"]
    }
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = boto3.client("dynamodb", region_name="eu-west-3").describe_time_to_live(TableName=moto_stack.ref("Table"))
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "ttl"


def test_queues_dead_letter_as_declared(moto_stack: Any) -> None:
    sqs = boto3.client("sqs", region_name="eu-west-3")
    attributes = sqs.get_queue_attributes(QueueUrl=moto_stack.ref("StockImportQueue"), AttributeNames=["All"])
    assert moto_stack.attribute("StockImportDLQ", "Arn") in attributes["Attributes"]["RedrivePolicy"]
    # AWS advises a visibility of at least 6 x the consuming function's timeout, so a retried batch never overlaps.
    worker_timeout = load_template()["Resources"]["StockImportWorkerFunction"]["Properties"]["Timeout"]
    assert int(attributes["Attributes"]["VisibilityTimeout"]) == 6 * worker_timeout


def test_identity_email_and_files(moto_stack: Any) -> None:
    cognito = boto3.client("cognito-idp", region_name="eu-west-3")
    groups = cognito.list_groups(UserPoolId=moto_stack.ref("UserPool"))["Groups"]
    assert {g["GroupName"] for g in groups} == {"beneficiary", "pro", "admin", "teacher", "institution_head"}
    identities = boto3.client("ses", region_name="eu-west-3").list_identities()["Identities"]
    assert "passculture.example" in identities
    boto3.client("s3", region_name="eu-west-3").head_bucket(Bucket=moto_stack.ref("FilesBucket"))
    assert "RestApi" in moto_stack.skipped or "RestApi" in moto_stack.resolver.refs
