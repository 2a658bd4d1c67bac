"""Shared fixtures: moto in-process with the template's resources, and a DynamoDB round-trip counter."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-3",
    "AWS_REGION": "eu-west-3",
}


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in AWS_TEST_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


class InProcessAws:
    """moto in-process: plain boto3 clients, intercepted by mock_aws."""

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name="eu-west-3")  # type: ignore[call-overload]


@pytest.fixture
def moto_stack(aws_env: None) -> Iterator[Any]:
    """moto in-process with every resource of template.yaml created from the template."""
    from moto import mock_aws

    from infra.local.embedded_aws import provision
    from infra.local.template import load_template

    with mock_aws():
        yield provision(InProcessAws(), load_template())


@dataclass
class RoundTrips:
    """Counts the DynamoDB API calls a client makes (one per round trip, retries aside)."""

    calls: list[str] = field(default_factory=list)

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def reset(self) -> None:
        self.calls.clear()

    @property
    def count(self) -> int:
        return len(self.calls)


def count_round_trips(client: Any) -> RoundTrips:
    counter = RoundTrips()
    client.meta.events.register("before-call.dynamodb", counter)
    return counter
