"""boto3 clients, built once per process and shared by every thread (a client costs ~160 ms to build).

Outside AWS, the standard `AWS_ENDPOINT_URL` variable points every client at the local embedded AWS: no code path
differs between the cloud and the laptop.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _config() -> Any:
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=50)


@cache
def client(service: str) -> Any:
    import boto3

    return boto3.client(service, config=_config())  # type: ignore[call-overload]


def dynamodb() -> DynamoDBClient:
    return client("dynamodb")  # type: ignore[no-any-return]
