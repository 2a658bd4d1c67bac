"""The plumbing every handler shares: who may call first (401 → 403 → 400 → rules), errors in the contract's
shape, bodies in the media type the route reads, identity from the authorizers."""

import json
from typing import Annotated, Any

import pytest
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field

from pass_culture.access import PRO, Caller, ResourceKind, allow, offer_in_path, offerer_in_query
from pass_culture.errors import Conflict, Forbidden, TooManyRequests
from pass_culture.http import build_resolver, caller_of
from pass_culture.identity import parse_groups
from pass_culture.models import CamelInput, DateInput, InstantInput
from tests.events import FakeContext, api_event, claims_of


class FakeDirectory:
    """In memory: offer o1 belongs to offerer A; user-1 is a member of A."""

    def __init__(self) -> None:
        self.reads = 0

    def offerer_of(self, kind: ResourceKind, resource_id: str) -> str | None:
        self.reads += 1
        return {"o1": "A"}.get(resource_id)

    def is_member(self, user_id: str, offerer_id: str) -> bool:
        self.reads += 1
        return (user_id, offerer_id) == ("user-1", "A")


directory = FakeDirectory()
app = build_resolver(lambda: directory)


class Body(BaseModel):
    name: str = Field(max_length=5)


class Strict(CamelInput):
    price_cents: int = 0
    is_duo: bool = False
    birth_date: DateInput | None = None
    at: InstantInput | None = None


@app.post("/things")
@allow(PRO)
def create(body: Body) -> dict[str, str]:
    return {"name": body.name}


@app.patch("/offers/<offerId>")
@allow(PRO, member_of=offer_in_path())
def update(offerId: str, body: Body) -> dict[str, str]:  # noqa: N803
    return {"offerId": offerId, "name": body.name}


@app.get("/tracking")
@allow(PRO, member_of=offerer_in_query())
def tracking(
    offererId: Annotated[str | None, Query()] = None,  # noqa: N803
    status: Annotated[str, Query(pattern="^A$")] = "A",
) -> dict[str, Any]:
    return {"offererId": offererId}


@app.post("/strict")
@allow()
def strict(body: Strict) -> dict[str, Any]:
    return body.model_dump(mode="json")


@app.post("/catalogue")
@allow(PRO, raw_body="text/csv")
def catalogue() -> dict[str, Any]:
    return {"length": len(app.current_event.decoded_body or "")}


@app.get("/conflict")
@allow()
def conflict() -> None:
    raise Conflict("Sold out.", code="SOLD_OUT", details=[{"stockId": "s1"}])


@app.get("/throttled")
@allow()
def throttled() -> None:
    raise TooManyRequests("Slow down.", retry_after_seconds=42)


@app.get("/bug")
@allow()
def bug() -> None:
    raise ZeroDivisionError("oops")


def call(event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, Any]]:
    response = app.resolve(event, FakeContext())
    headers = {
        **(response.get("headers") or {}),
        **{k: v[0] for k, v in (response.get("multiValueHeaders") or {}).items()},
    }
    return response["statusCode"], json.loads(response["body"]), headers


def with_content_type(event: dict[str, Any], content_type: str | None) -> dict[str, Any]:
    headers = {} if content_type is None else {"content-type": content_type}
    return {**event, "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()}}


def test_a_route_without_a_declaration_is_refused_at_registration() -> None:
    with pytest.raises(TypeError, match="declare who may call"):

        @app.get("/undeclared")
        def undeclared() -> None:
            return None


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


def test_a_query_error_names_the_parameter_as_sent() -> None:
    status, body, _ = call(api_event("GET", "/tracking", query={"status": "B"}, claims=claims_of("pro")))
    assert status == 400
    assert [d["field"] for d in body["details"]] == ["status"]
    assert body["message"] == "Invalid request: status."


def test_an_unknown_route_is_a_404_and_a_bug_a_500_without_traceback() -> None:
    assert call(api_event("GET", "/nope"))[0:2] == (
        404,
        {"code": "NOT_FOUND", "message": "No such route.", "details": []},
    )
    status, body, _ = call(api_event("GET", "/bug"))
    assert status == 500
    assert "oops" not in json.dumps(body) and "Traceback" not in json.dumps(body)


def test_who_may_call_is_checked_before_the_body() -> None:
    bad_body = {"name": 1}
    assert call(api_event("POST", "/things", body=bad_body))[0] == 401
    status, body, _ = call(api_event("POST", "/things", body=bad_body, claims=claims_of("beneficiary")))
    assert (status, body["code"]) == (403, "FORBIDDEN_GROUP")
    assert call(api_event("POST", "/things", body=bad_body, claims=claims_of("pro")))[0] == 400
    assert call(api_event("POST", "/things", body={"name": "a"}, claims=claims_of("pro")))[0:2] == (200, {"name": "a"})


def test_membership_of_the_offerer_in_the_path_is_checked_before_the_body() -> None:
    def patch(body: Any, sub: str, offer_id: str = "o1") -> tuple[int, dict[str, Any], dict[str, Any]]:
        event = api_event(
            "PATCH",
            f"/offers/{offer_id}",
            resource="/offers/{offerId}",
            path_parameters={"offerId": offer_id},
            body=body,
            claims=claims_of("pro", sub=sub),
        )
        return call(event)

    status, body, _ = patch({"name": 1}, sub="user-of-B")
    assert (status, body["code"]) == (403, "NOT_OFFERER_MEMBER")
    # An offer that does not exist answers as one of another offerer: ids are not probed.
    assert patch({"name": 1}, sub="user-1", offer_id="nope")[0:2] == patch({"name": 1}, sub="user-of-B")[0:2]
    assert patch({"name": 1}, sub="user-1")[0] == 400
    assert patch({"name": "ok"}, sub="user-1")[0:2] == (200, {"offerId": "o1", "name": "ok"})
    assert patch({"name": "ok"}, sub="user-1", offer_id="x" * 500)[0] == 403


def test_membership_of_the_offerer_in_the_query_is_checked_before_the_query() -> None:
    event = api_event("GET", "/tracking", query={"offererId": "B", "status": "wrong"}, claims=claims_of("pro"))
    assert call(event)[0] == 403
    event = api_event("GET", "/tracking", query={"offererId": "A", "status": "wrong"}, claims=claims_of("pro"))
    assert call(event)[0] == 400
    assert call(api_event("GET", "/tracking", query={"offererId": "A"}, claims=claims_of("pro")))[0] == 200


def test_an_offerer_named_twice_in_the_query_must_be_the_callers_both_times() -> None:
    event = api_event("GET", "/tracking", query={"offererId": "A"}, claims=claims_of("pro"))
    for values in (["B", "A"], ["A", "B"]):  # API Gateway's single map keeps the last, Powertools reads the first
        event["multiValueQueryStringParameters"] = {"offererId": values}
        event["queryStringParameters"] = {"offererId": values[-1]}
        assert call(event)[0] == 403
    event["multiValueQueryStringParameters"] = {"offererId": ["A", "A"]}
    assert call(event)[0] == 400  # then the route, which takes one offererId, refuses the list


@pytest.mark.parametrize(
    "body",
    [{"birthDate": "0001-01-01"}, {"birthDate": "9999-12-31"}, {"at": "9999-12-31T23:59:59-12:00"},
     {"at": "0001-01-01T00:00:00+14:00"}],
)  # fmt: skip
def test_dates_out_of_any_plausible_range_are_a_400(body: dict[str, Any]) -> None:
    assert call(api_event("POST", "/strict", body=body))[0] == 400


def test_api_keys_are_refused_where_the_route_does_not_take_them() -> None:
    key = {"principalId": "apikey:k1", "offererId": "A", "apiKeyId": "k1"}
    status, body, _ = call(api_event("POST", "/things", body={"name": "a"}, authorizer=key))
    assert (status, body["code"]) == (403, "FORBIDDEN_GROUP")


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "image/png",
        "application/octet-stream",
        "multipart/form-data",
        "application/x-www-form-urlencoded",
    ],
)
def test_a_json_route_answers_415_naming_the_expected_type(content_type: str) -> None:
    event = with_content_type(api_event("POST", "/things", body={"name": "a"}, claims=claims_of("pro")), content_type)
    status, body, _ = call(event)
    assert (status, body["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert "Content-Type: application/json" in body["message"]


@pytest.mark.parametrize(
    "content_type", [None, "application/json", "application/json; charset=utf-8", "APPLICATION/JSON"]
)
def test_a_json_body_is_read_with_or_without_its_content_type(content_type: str | None) -> None:
    event = with_content_type(api_event("POST", "/things", body={"name": "a"}, claims=claims_of("pro")), content_type)
    assert call(event)[0:2] == (200, {"name": "a"})


def test_a_csv_route_reads_csv_and_refuses_json() -> None:
    event = api_event("POST", "/catalogue", body="ean,title\n", claims=claims_of("pro"))
    assert call(with_content_type(event, "text/csv"))[0:2] == (200, {"length": 10})
    status, body, _ = call(with_content_type(event, "application/json"))
    assert status == 415 and "text/csv" in body["message"]


def test_deeply_nested_json_is_a_400() -> None:
    deep = "[" * 5000 + "]" * 5000
    status, body, _ = call(api_event("POST", "/things", body=deep, claims=claims_of("pro")))
    assert (status, body["code"]) == (400, "BAD_REQUEST")
    assert "nested" in body["message"]
    status, _, _ = call(api_event("POST", "/things", body=b"\xff\xfe".decode("latin-1"), claims=claims_of("pro")))
    assert status == 400


@pytest.mark.parametrize(
    "body",
    [
        {"priceCents": True},
        {"priceCents": 1.5},
        {"priceCents": "12"},
        {"isDuo": 1},
        {"isDuo": "true"},
        {"birthDate": "2008-05-01T00:00:00"},
        {"birthDate": 20080501},
        {"birthDate": "01/05/2008"},
    ],
)
def test_bodies_are_strictly_typed(body: dict[str, Any]) -> None:
    assert call(api_event("POST", "/strict", body=body))[0] == 400


def test_strict_bodies_still_take_what_the_contract_says() -> None:
    body = {"priceCents": 1200, "isDuo": True, "birthDate": "2008-05-01"}
    assert call(api_event("POST", "/strict", body=body))[0:2] == (
        200,
        {"price_cents": 1200, "is_duo": True, "birth_date": "2008-05-01", "at": None},
    )


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
    assert caller_of is not None


@pytest.mark.parametrize("name", ["from", "to", "eventDate"])
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_booking_tracking_dates_out_of_range_are_refused(name: str, day: str) -> None:
    from pydantic import ValidationError

    from pass_culture.bookings.tracking import BookingFilters

    with pytest.raises(ValidationError):
        BookingFilters.model_validate({name: day})


def test_every_answer_errors_included_is_not_to_be_stored_by_a_browser_or_a_proxy() -> None:
    """A 410 for a countermark is cacheable by default (RFC 9111): the portal once showed "déjà validée" after the
    validation had been undone. Every answer says no-store."""
    answers = [
        call(api_event("POST", "/things", body={"name": "ok"}, claims=claims_of("pro"))),
        call(api_event("GET", "/conflict")),
        call(api_event("POST", "/things", body={"name": "far too long"}, claims=claims_of("pro"))),
        call(api_event("GET", "/bug")),
    ]
    assert [status for status, _, _ in answers] == [200, 409, 400, 500]
    assert {headers["Cache-Control"] for _, _, headers in answers} == {"no-store"}
