"""The OpenAPI document is the contract (issue 9): each function's document, and the merged one `/openapi.json`
serves, say for every operation who may call it, every status it answers (errors in the error schema), its body's
media type and its parameters — derived from the routes' declarations, so they cannot drift apart."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from openapi_spec_validator import validate
from pydantic import ValidationError

from infra.local.stack import LocalStack
from infra.local.template import ApiRoute, functions, load_template
from pass_culture.access import PRO, allow
from pass_culture.errors import BadRequest
from pass_culture.http import IdempotencyKey, build_resolver
from pass_culture.offers.catalogue import parse_catalogue
from pass_culture.offers.models import UpdateOfferInput, UpdateStockInput
from pass_culture.settings import get_settings
from tests.events import FakeContext, api_event, claims_of

API_FUNCTIONS = [f for f in functions(load_template()) if f.routes]
ERROR_REF = {"$ref": "#/components/schemas/Error"}
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
def documents() -> Iterator[dict[str, dict[str, Any]]]:
    """Each API function's own document, as its resolver generates it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TABLE_NAME", "contract-test")
        patch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
        get_settings.cache_clear()
        found = {}
        for function in API_FUNCTIONS:
            module: Any = importlib.import_module(function.module_name)
            found[function.logical_id] = json.loads(module.app.get_openapi_json_schema())
        yield found
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def merged(documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What `GET /openapi.json` serves: the local stack's merge of the functions' documents."""
    stack = SimpleNamespace(
        template=load_template(),
        url="http://127.0.0.1:3000",
        functions={name: SimpleNamespace(openapi=lambda d=document: d) for name, document in documents.items()},
    )
    return LocalStack.merged_openapi(stack)  # type: ignore[arg-type]


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert method in METHODS, (path, method)
            yield path, method, operation


def deployed() -> dict[tuple[str, str], ApiRoute]:
    return {(route.path, route.method.lower()): route for f in API_FUNCTIONS for route in f.routes}


def test_the_merged_document_is_valid_openapi_3_1_with_its_security_schemes(merged: dict[str, Any]) -> None:
    validate(merged)  # every $ref resolves, every security requirement names a declared scheme
    assert merged["openapi"].startswith("3.1")
    assert set(merged["components"]["securitySchemes"]) == {"cognito", "apiKey"}
    assert {(path, method) for path, method, _ in operations(merged)} == set(deployed())


def test_each_functions_document_is_valid_on_its_own(documents: dict[str, dict[str, Any]]) -> None:
    for document in documents.values():
        validate(document)


def test_security_says_who_may_call_as_the_template_deploys_it(merged: dict[str, Any]) -> None:
    routes = deployed()
    for path, method, operation in operations(merged):
        authorizer = routes[(path, method)].authorizer
        security = operation.get("security")
        if authorizer == "NONE":
            assert security is None, (path, method)
            continue
        assert security, (path, method)
        schemes = {name for requirement in security for name in requirement}
        if authorizer == "CognitoAuthorizer":
            assert schemes == {"cognito"}, (path, method)
        else:  # the project's authorizer: offerer API keys, and pros' tokens on the countermark API
            assert "apiKey" in schemes, (path, method)
        for requirement in security:
            assert set(requirement.get("cognito", [])) <= {"beneficiary", "pro", "admin", "teacher", "institution_head"}
        assert any(requirement.get("cognito") or "apiKey" in requirement for requirement in security)


def test_protected_operations_answer_401_and_403_and_public_ones_neither(merged: dict[str, Any]) -> None:
    for path, method, operation in operations(merged):
        statuses = set(operation["responses"])
        if operation.get("security"):
            assert {"401", "403"} <= statuses, (path, method)
        else:
            assert not {"401", "403"} & statuses, (path, method)


def test_every_error_status_answers_the_error_schema(merged: dict[str, Any]) -> None:
    for path, method, operation in operations(merged):
        for status, answer in operation["responses"].items():
            if int(status) >= 400:
                assert answer["content"] == {"application/json": {"schema": ERROR_REF}}, (path, method, status)
    assert merged["components"]["schemas"]["Error"]["required"] == ["code", "message", "details"]


def test_no_trace_of_powertools_422_validation_error(merged: dict[str, Any]) -> None:
    text = json.dumps(merged)
    for generated in ("HTTPValidationError", "ResponseValidationError", '"#/components/schemas/ValidationError"'):
        assert generated not in text
    for path, method, operation in operations(merged):
        if "422" in operation["responses"]:
            schema = operation["responses"]["422"]["content"]["application/json"]["schema"]
            assert schema == ERROR_REF, (path, method)


# api.md: POST /offerers creates the offerer (201), or, for a SIREN already registered, a request to join it (202)
TWO_SUCCESSES = {("/offerers", "post"): ["201", "202"]}


def test_one_success_status_per_operation_and_204_has_no_body(merged: dict[str, Any]) -> None:
    for path, method, operation in operations(merged):
        successes = sorted(status for status in operation["responses"] if status.startswith("2"))
        assert len(successes) == 1 or successes == TWO_SUCCESSES.get((path, method)), (path, method, successes)
        if successes == ["204"]:
            assert "content" not in operation["responses"]["204"], (path, method)
    assert "201" in merged["paths"]["/offers"]["post"]["responses"]
    assert "202" in merged["paths"]["/venues/{venueId}/stocks/import"]["post"]["responses"]
    assert "204" in merged["paths"]["/v2/bookings/use/token/{token}"]["patch"]["responses"]


def test_inputs_give_their_statuses(merged: dict[str, Any]) -> None:
    """An id in the path can name nothing (404); a body can be malformed (400) or in another media type (415)."""
    for path, method, operation in operations(merged):
        statuses = set(operation["responses"])
        if "{" in path:
            assert "404" in statuses, (path, method)
        if "requestBody" in operation:
            assert {"400", "415"} <= statuses, (path, method)
            assert operation["requestBody"]["required"] is True, (path, method)


def test_the_csv_export_answers_text_csv(merged: dict[str, Any]) -> None:
    answer = merged["paths"]["/pro/bookings/export"]["get"]["responses"]["200"]
    assert answer["content"] == {"text/csv": {"schema": {"type": "string"}}}


def test_the_catalogue_takes_a_csv_body(merged: dict[str, Any]) -> None:
    body = merged["paths"]["/admin/catalogue"]["post"]["requestBody"]
    assert body == {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    assert {"400", "415"} <= set(merged["paths"]["/admin/catalogue"]["post"]["responses"])


@pytest.mark.parametrize("path", ["/offers", "/bookings"])
def test_idempotency_key_is_declared_where_a_retry_answers_the_first_answer(merged: dict[str, Any], path: str) -> None:
    parameters = merged["paths"][path]["post"]["parameters"]
    [header] = [p for p in parameters if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key"
    assert header["required"] is False
    assert header["schema"]["type"] == "string"
    assert header["schema"]["pattern"] == "^[A-Za-z0-9_.:-]{1,128}$"


def test_query_parameters_keep_their_constraints(merged: dict[str, Any]) -> None:
    reimbursements = merged["paths"]["/pro/reimbursements"]["get"]["parameters"]
    assert [(p["name"], p["in"], p["required"]) for p in reimbursements] == [
        ("offererId", "query", True), ("limit", "query", False), ("cursor", "query", False),
    ]  # fmt: skip
    tracking = {p["name"]: p["schema"] for p in merged["paths"]["/pro/bookings"]["get"]["parameters"]}
    assert "enum" in tracking["status"] and tracking["status"]["type"] == "string"
    assert tracking["from"] == {"type": "string", "format": "date"}
    for path, method, operation in operations(merged):
        for parameter in operation.get("parameters", []):
            assert {"type": "null"} not in parameter["schema"].get("anyOf", []), (path, method, parameter["name"])
    search = {p["name"]: p for p in merged["paths"]["/offers"]["get"]["parameters"]}
    assert all(search[name]["required"] for name in ("lat", "lon", "radiusKm"))


def test_no_route_says_501_any_more(merged: dict[str, Any]) -> None:
    for path, method, operation in operations(merged):
        assert "501" not in operation["responses"], (path, method)


def test_two_functions_never_disagree_on_a_shared_component(documents: dict[str, dict[str, Any]]) -> None:
    seen: dict[tuple[str, str], Any] = {}
    for document in documents.values():
        for kind, components in document.get("components", {}).items():
            for name, component in components.items():
                assert seen.setdefault((kind, name), component) == component, (kind, name)


# -- the header parameter as the gateway hands it over -------------------------------------------------------------
app = build_resolver()


@app.post("/keyed")
@allow(PRO)
def keyed(idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    return {"key": idempotency_key}


def call_keyed(headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    event = api_event("POST", "/keyed", claims=claims_of("pro"), headers=headers)
    response = app.resolve(event, FakeContext())
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize("name", ["Idempotency-Key", "idempotency-key", "IDEMPOTENCY-KEY", "idempotency-KEY"])
def test_the_idempotency_key_is_read_whatever_the_case_of_its_name(name: str) -> None:
    assert call_keyed({name: "retry-1"}) == (200, {"key": "retry-1"})


def test_a_bad_idempotency_key_is_a_400_naming_the_header() -> None:
    assert call_keyed({}) == (200, {"key": None})
    status, body = call_keyed({"idempotency-key": "no spaces allowed"})
    assert status == 400
    assert [detail["field"] for detail in body["details"]] == ["Idempotency-Key"]
    assert call_keyed({"Idempotency-Key": "k" * 129})[0] == 400


# -- what the fuzz found: answers the document did not promise -----------------------------------------------------
@pytest.mark.parametrize("body", [{"priceCents": None}, {"quantity": None}])
def test_a_stock_patch_never_writes_null(body: dict[str, Any]) -> None:
    """`{"priceCents": null}` was written as the price: every later read of the stock answered 500."""
    with pytest.raises(ValidationError, match="null is not a value here"):
        UpdateStockInput.model_validate(body)
    assert UpdateStockInput.model_validate({"unlimited": True}).model_dump(exclude_unset=True) == {"unlimited": True}
    schema = UpdateStockInput.model_json_schema(by_alias=True)["properties"]
    assert schema["priceCents"]["type"] == "integer" and "anyOf" not in schema["priceCents"]


def test_an_offer_patch_never_writes_a_null_description() -> None:
    with pytest.raises(ValidationError):
        UpdateOfferInput.model_validate({"description": None})
    assert UpdateOfferInput.model_json_schema(by_alias=True)["properties"]["description"]["type"] == "string"


@pytest.mark.parametrize(
    "text",
    [
        "\ríx|ª lx\nk",  # a carriage return inside an unquoted field
        "ean,title,author,publisher,clil\n" + "x" * 200_000 + ",t,a,p,1\n",  # a field over csv's size limit
    ],
)
def test_a_catalogue_csv_can_not_break_the_parser(text: str) -> None:
    with pytest.raises(BadRequest):
        parse_catalogue(text)


def test_a_catalogue_with_crlf_lines_loads() -> None:
    parsed = parse_catalogue("ean,title,author,publisher,clil\r\n9782070360024,L'Étranger,Camus,Gallimard,3435\r\n")
    assert [book.ean for book in parsed.books] == ["9782070360024"]
