"""The plumbing every handler shares: errors in the contract's shape, identity from the authorizers."""

import json
from typing import Any

import pytest
from pydantic import BaseModel, Field

from pass_culture.errors import Conflict, Forbidden, TooManyRequests
from pass_culture.http import Caller, build_resolver, caller_of
from pass_culture.identity import parse_groups
from tests.events import FakeContext, api_event, claims_of

app = build_resolver()


class Body(BaseModel):
    name: str = Field(max_length=5)


@app.post("/things")
def create(body: Body) -> dict[str, str]:
    caller_of(app).require("pro")
    return {"name": body.name}


@app.get("/conflict")
def conflict() -> None:
    raise Conflict("Sold out.", code="SOLD_OUT", details=[{"stockId": "s1"}])


@app.get("/throttled")
def throttled() -> None:
    raise TooManyRequests("Slow down.", retry_after_seconds=42)


@app.get("/bug")
def bug() -> None:
    raise ZeroDivisionError("oops")


def call(event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, Any]]:
    response = app.resolve(event, FakeContext())  # type: ignore[arg-type]
    headers = {
        **(response.get("headers") or {}),
        **{k: v[0] for k, v in (response.get("multiValueHeaders") or {}).items()},
    }
    return response["statusCode"], json.loads(response["body"]), headers


def test_domain_errors_answer_the_contract_shape() -> None:
    status, body, _ = call(api_event("GET", "/conflict"))
    assert status == 409
    assert body == {"code": "SOLD_OUT", "message": "Sold out.", "details": [{"stockId": "s1"}]}


def test_429_says_when_to_retry() -> None:
    status, body, headers = call(api_event("GET", "/throttled"))
    assert (status, body["code"], headers["Retry-After"]) == (429, "TOO_MANY_REQUESTS", "42")


def test_a_bad_body_is_a_400_naming_the_field() -> None:
    status, body, _ = call(api_event("POST", "/things", body={"name": "far too long"}, claims=claims_of("pro")))
    assert status == 400
    assert body["code"] == "BAD_REQUEST"
    assert body["details"][0]["field"] == "name"
    status, body, _ = call(api_event("POST", "/things", body="{not json", claims=claims_of("pro")))
    assert status == 400


def test_an_unknown_route_is_a_404_and_a_bug_a_500_without_traceback() -> None:
    assert call(api_event("GET", "/nope"))[0:2] == (
        404,
        {"code": "NOT_FOUND", "message": "No such route.", "details": []},
    )
    status, body, _ = call(api_event("GET", "/bug"))
    assert status == 500
    assert "oops" not in json.dumps(body) and "Traceback" not in json.dumps(body)


def test_no_identity_is_401_and_the_wrong_group_403() -> None:
    assert call(api_event("POST", "/things", body={"name": "a"}))[0] == 401
    status, body, _ = call(api_event("POST", "/things", body={"name": "a"}, claims=claims_of("beneficiary")))
    assert (status, body["code"]) == (403, "FORBIDDEN_GROUP")
    assert call(api_event("POST", "/things", body={"name": "a"}, claims=claims_of("pro")))[0:2] == (200, {"name": "a"})


@pytest.mark.parametrize(
    ("raw", "groups"),
    [
        ("pro", {"pro"}),
        ("pro,admin", {"pro", "admin"}),
        ("[pro admin]", {"pro", "admin"}),
        ('["pro", "admin"]', {"pro", "admin"}),
        (["pro"], {"pro"}),
        (None, set()),
        ("", set()),
    ],
)
def test_groups_claim_in_every_shape_api_gateway_uses(raw: Any, groups: set[str]) -> None:
    assert parse_groups(raw) == groups


def test_api_key_callers_carry_their_offerer_and_nothing_else() -> None:
    caller = Caller(user_id=None, email=None, groups=frozenset(), api_key_offerer_id="o1")
    assert caller.require_pro_or_api_key() is caller
    with pytest.raises(Forbidden):
        caller.require("pro")
