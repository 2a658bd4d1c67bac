"""Benchmarks (`make bench`). Each one runs against moto, in process or served on loopback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pass_culture.dynamo import Table


def template_table() -> tuple[Any, Table]:
    """A DynamoDB client and template.yaml's table, created (with every other resource of the template) in the AWS
    boto3's default clients reach: moto in process under `mock_aws`, or served at AWS_ENDPOINT_URL."""
    import boto3

    from infra.local.embedded_aws import provision
    from infra.local.template import load_template
    from pass_culture.dynamo import Table

    class DefaultClients:
        def client(self, service: str) -> Any:
            return boto3.client(service, region_name="eu-west-3")  # type: ignore[call-overload]

    provisioned = provision(DefaultClients(), load_template())
    client = boto3.client("dynamodb", region_name="eu-west-3")
    return client, Table(client, provisioned.ref("Table"))
