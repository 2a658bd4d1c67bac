"""Functions called in-process with the environment the template gives them, moto behind."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from infra.local.embedded_aws import EmbeddedAws, Provisioned, provision
from infra.local.template import functions, load_template
from pass_culture import aws
from pass_culture.settings import get_settings
from tests.events import FakeContext, api_event

TEMPLATE = load_template()
FUNCTIONS = {f.logical_id: f for f in functions(TEMPLATE)}


def deploy(provisioned: Any, monkeypatch: pytest.MonkeyPatch, logical_id: str) -> Any:
    """Sets the function's environment as the template resolves it, and (re)loads its module fresh."""
    function = FUNCTIONS[logical_id]
    for name, value in function.raw_environment.items():
        monkeypatch.setenv(name, str(provisioned.resolver.resolve(value)))
    get_settings.cache_clear()
    aws.client.cache_clear()
    module = importlib.import_module(function.module_name)
    for value in vars(module).values():  # the module's cached services (built on first use)
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()
    return module


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


def call_api(module: Any) -> Callable[..., Answer]:
    def call(
        method: str,
        path: str,
        *,
        resource: str | None = None,
        params: dict[str, str] | None = None,
        body: Any = None,
        claims: dict[str, str] | None = None,
        authorizer: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Answer:
        event = api_event(
            method,
            path,
            resource=resource,
            path_parameters=params,
            body=body,
            claims=claims,
            authorizer=authorizer,
            query=query,
            content_type=content_type,
        )
        return send(module, event)

    return call


def send(module: Any, event: dict[str, Any]) -> Answer:
    """A whole API Gateway event to a function's handler, its answer decoded."""
    response = module.lambda_handler(event, FakeContext())
    raw = response.get("body")
    headers = {
        **(response.get("headers") or {}),
        **{k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()},
    }
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw
    return Answer(response["statusCode"], body, headers)


@pytest.fixture
def deployed(moto_stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Any]]:
    yield lambda logical_id: deploy(moto_stack, monkeypatch, logical_id)
    get_settings.cache_clear()
    aws.client.cache_clear()


@pytest.fixture
def embedded() -> Iterator[tuple[EmbeddedAws, Provisioned]]:
    """The local stack's embedded AWS (moto's server on loopback, one request at a time) with the template's resources."""
    aws = EmbeddedAws()
    aws.start()
    yield aws, provision(aws, load_template())
    aws.stop()


# The `world` fixture of the booking and counter tests (defined beside its helpers).
from tests.integration.booking_world import world  # noqa: E402, F401
from tests.integration.collective_world import collective  # noqa: E402, F401
