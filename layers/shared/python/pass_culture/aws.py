"""boto3 clients, built once per process and shared by every thread (a client costs ~160 ms to build).

Outside AWS, the standard `AWS_ENDPOINT_URL` variable points every client at the local embedded AWS: no code path
differs between the cloud and the laptop.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


# botocore's defaults (60 s to connect, 60 s to read, retried) would let one stuck call outlive the function and API
# Gateway's 29 s. Here the worst case of a call, every attempt timing out plus standard mode's backoff (at most 1 s,
# then 2 s), stays under the shortest function Timeout of the template (10 s; tests/unit/test_aws_clients.py):
# 2 attempts x (1 + 2) s + 1 s = 7 s. S3 carries the payout files (megabytes): longer reads, in 300 s+ functions only.
TIMEOUTS = {"default": {"connect_timeout": 1, "read_timeout": 2, "total_max_attempts": 2},
            "s3": {"connect_timeout": 2, "read_timeout": 20, "total_max_attempts": 3}}  # fmt: skip


# The local stack's embedded AWS answers one request at a time: under load a call waits its turn for seconds, which
# AWS never makes it do. There (AWS_ENDPOINT_URL set), reads may wait; the attempts stay as in AWS.
LOCAL_TIMEOUTS = {"connect_timeout": 5, "read_timeout": 60}


def config_for(service: str) -> Any:
    import os

    from botocore.config import Config

    limits = TIMEOUTS.get(service, TIMEOUTS["default"])
    if os.environ.get("AWS_ENDPOINT_URL"):
        limits = {**limits, **LOCAL_TIMEOUTS}
    return Config(
        connect_timeout=limits["connect_timeout"],
        read_timeout=limits["read_timeout"],
        retries={"mode": "standard", "total_max_attempts": limits["total_max_attempts"]},
        max_pool_connections=50,
    )


@cache
def client(service: str) -> Any:
    import boto3

    from pass_culture.observability import trace_aws_calls

    trace_aws_calls()  # X-Ray patches botocore now, with the first client, rather than at import
    return boto3.client(service, config=config_for(service))  # type: ignore[call-overload]


def dynamodb() -> DynamoDBClient:
    return client("dynamodb")  # type: ignore[no-any-return]
