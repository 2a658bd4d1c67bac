"""Benchmarks (`make bench`). Each one runs against moto, in process or served on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.request import urlopen

if TYPE_CHECKING:
    from infra.local.embedded_aws import Provisioned
    from pass_culture.dynamo import Table

# moto's server, with the local stack's patches when `patched`: transactions and GSI queries at AWS's cost, item
# answers as plain JSON (infra/local/moto_transactions.py, moto_indexes.py, moto_answers.py), as `make run` serves it.
SERVE_MOTO = (
    "import sys\n"
    "if sys.argv[1] == 'patched':\n"
    "    from infra.local import moto_answers, moto_indexes, moto_transactions\n"
    "    moto_transactions.install(); moto_indexes.install(); moto_answers.install()\n"
    "from moto.server import main; main(['-H', '127.0.0.1', '-p', sys.argv[2]])"
)


@contextmanager
def moto_server(*, patched: bool) -> Iterator[str]:
    """moto's server in another process on a free loopback port (so memory figures are the benchmark's own); boto3's
    default clients of this process (and of its children) reach it through AWS_ENDPOINT_URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        AWS_ACCESS_KEY_ID="t", AWS_SECRET_ACCESS_KEY="t", AWS_DEFAULT_REGION="eu-west-3", AWS_ENDPOINT_URL=endpoint
    )
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE_MOTO, "patched" if patched else "plain", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urlopen(f"{endpoint}/moto-api/", timeout=1).close()  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()


def provision_template() -> Provisioned:
    """Every resource of template.yaml created in the AWS boto3's default clients reach: moto in process under
    `mock_aws`, or served at AWS_ENDPOINT_URL (with the local stack's moto patches: `embedded_aws.provision`)."""
    import boto3

    from infra.local.embedded_aws import provision
    from infra.local.template import load_template

    class DefaultClients:
        def client(self, service: str) -> Any:
            return boto3.client(service, region_name="eu-west-3")  # type: ignore[call-overload]

    return provision(DefaultClients(), load_template())


def template_table() -> tuple[Any, Table]:
    """A DynamoDB client and template.yaml's table (`provision_template`)."""
    import boto3

    from pass_culture.dynamo import Table

    provisioned = provision_template()
    client = boto3.client("dynamodb", region_name="eu-west-3")
    return client, Table(client, provisioned.ref("Table"))


def store_in_moto(table: Any, item: dict[str, Any]) -> None:
    """An item straight into moto's storage of `table` (a moto Table): moto's own PutItem costs O(attributes²) per
    item, a moto artefact that would make seeding hundreds of thousands of items take hours."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    from pass_culture.dynamo import serialize

    raw = serialize(item)
    stored: Any = Item.__new__(Item)
    stored.hash_key, stored.range_key = DynamoType(raw["PK"]), DynamoType(raw["SK"])
    attrs = LimitedSizeDict()
    dict.update(attrs, {name: DynamoType(value) for name, value in raw.items()})  # moto's size check, skipped
    stored.attrs = attrs
    table.items[stored.hash_key][stored.range_key] = stored
