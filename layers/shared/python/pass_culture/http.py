"""What every API handler shares: the resolver that enforces the HTTP contract, and the caller's identity as API
Gateway's authorizers hand it over (Cognito claims, or the project's API-key authorizer context).

A request goes through, in this order (architecture.md, api.md "Errors"):
  1. who may call (`pass_culture.access`, declared with `@allow` under each route): 401, then 403;
  2. the path's ids (an id longer than any id names nothing: 404) and the body's media type (JSON unless the route
     declares another; anything else is 415, naming the expected type) and JSON depth (400);
  3. Powertools' validation of path, query and body against the handler's signature: 400 naming the fields as the
     client sent them;
  4. the handler, then the use case's rules (404, 409, 410, 422, 429), mapped from `DomainError`s.
The OpenAPI document is derived from the same declarations (`contract_document`).

Handlers stay thin: parse (Powertools validation), identify (`caller_of`), call one use case, answer.
"""

from __future__ import annotations

import inspect
import json
import os
import typing
from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from pydantic import BaseModel

from pass_culture.access import (
    MAX_ID_LENGTH,
    Access,
    Caller,
    OffererDirectory,
    access_of,
    authorize,
)
from pass_culture.errors import BadRequest, DomainError, NotFound, Unauthenticated, Unavailable, UnsupportedMediaType
from pass_culture.idempotency import KEY_PATTERN
from pass_culture.identity import parse_groups
from pass_culture.observability import count, logger

JSON = "application/json"
ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message", "details"],
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "details": {"type": "array", "items": {}},
    },
}
SECURITY_SCHEMES = {
    "cognito": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A Cognito ID token. An operation's requirement names the groups it lets in "
        "(`cognito:groups`: beneficiary, pro, admin).",
    },
    "apiKey": {"type": "http", "scheme": "bearer", "description": "An offerer API key (venue software)."},
}
# `Idempotency-Key` on POST /offers and POST /bookings: a retry with the same key answers the first answer. Header
# names are case-insensitive: Powertools reads them from a case-insensitive map, whatever case the client sent.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=KEY_PATTERN.pattern,
        description="A retry with the same key (same caller, same body) answers the first answer; "
        "1 to 128 letters, digits or _ . : -",
    ),
]


def error_response(status: int, code: str, message: str, details: list[Any] | None = None) -> Response[str]:
    body = json.dumps({"code": code, "message": message, "details": details or []}, ensure_ascii=False)
    return Response(status_code=status, content_type=JSON, body=body)


def _field_name(location: tuple[Any, ...]) -> str:
    """A validation error's field as the client sent it: `status` (not `query.filters.status`), `priceCents`,
    `stocks.0.ref`."""
    source, *rest = location or ("body",)
    if source == "header" and rest:  # Powertools lowercases header names: `Idempotency-Key` as the contract writes it
        return "-".join(part.capitalize() for part in str(rest[-1]).split("-"))
    if source in ("query", "path", "header", "cookie"):
        return str(rest[-1]) if rest else str(source)  # query strings are flat, whatever model gathers them
    return ".".join(str(part) for part in rest if part != "body")


# The headers a browser may send from the pro portal's origin (API Gateway answers the preflight itself, without an
# authorizer: template.yaml `Cors`; the function adds Access-Control-Allow-Origin to its answers).
CORS_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key"]


def portal_cors() -> CORSConfig | None:
    """CORS for the portal's origin (PORTAL_ORIGIN, a deployment parameter), none when it is not set."""
    origin = os.environ.get("PORTAL_ORIGIN", "")
    return CORSConfig(allow_origin=origin, allow_headers=CORS_HEADERS, max_age=600) if origin else None


class ContractResolver(APIGatewayRestResolver):
    """Powertools' REST resolver with the contract's gate in front of its validation (see the module's doc)."""

    def __init__(self, directory: Callable[[], OffererDirectory] | None = None) -> None:
        super().__init__(enable_validation=True, cors=portal_cors())
        self._directory = directory or _no_directory

    def resolve(self, event: Any, context: Any) -> dict[str, Any]:
        """Every answer, errors included, says `Cache-Control: no-store` unless its route chose otherwise: they are
        personal and change (a browser or proxy must not serve yesterday's 410 for a countermark validated, undone
        and looked up again — 404 and 410 are cacheable by default, RFC 9111)."""
        answer: dict[str, Any] = super().resolve(event, context)
        headers = answer.setdefault("multiValueHeaders", {})
        if not any(name.lower() == "cache-control" for name in headers) and not any(
            name.lower() == "cache-control" for name in answer.get("headers") or {}
        ):
            headers["Cache-Control"] = ["no-store"]
        return answer

    # -- registration: every route declares who may call it ------------------------------------------------------
    def route(self, rule: str, method: Any, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        register = super().route
        bound = inspect.signature(register).bind(rule, method, *args, **kwargs)

        def declare(func: Callable[..., Any]) -> Callable[..., Any]:
            access = access_of(func)
            if access is None:
                raise TypeError(f"{method} {rule}: declare who may call it with @allow(...) under the route")
            arguments = bound.arguments
            status = int(arguments.get("status_code") or 200)
            has_input, has_body = _inputs_of(func, rule)
            responses: dict[int, Any] = {status: {"description": HTTPStatus(status).phrase}}
            if status == 204:
                responses[status]["content"] = {}
            responses.update(arguments.get("responses") or {})
            for error in access.statuses(has_input=has_input, has_body=has_body, has_path_ids="<" in rule):
                responses.setdefault(error, _error_response_doc(error))
            arguments["responses"] = responses
            if not access.is_public:
                # OpenAPI 3.1: a bearer scheme's requirement may list the roles the operation needs.
                arguments["security"] = [{"cognito": sorted(access.groups)}] * bool(access.groups) + [
                    {"apiKey": []}
                ] * access.api_key
            return register(*bound.args, **bound.kwargs)(func)

        return declare

    # -- each request: the gate, then Powertools (validation, handler) -------------------------------------------
    def _call_route(self, route: Any, route_arguments: dict[str, str]) -> Any:
        try:
            access = access_of(route.func)
            if access is not None:  # None: Powertools' own not-found route
                self._gate(route, access, route_arguments)
        except Exception as error:
            handled = self._call_exception_handler(error, route)
            if handled is None:
                raise
            return handled
        return super()._call_route(route, route_arguments)

    def _gate(self, route: Any, access: Access, path: dict[str, str]) -> None:
        event = self.current_event
        query = event.multi_value_query_string_parameters or {k: [v] for k, v in event.query_string_parameters.items()}
        authorize(access, identify(self), path, query, self._directory)
        if any(len(value) > MAX_ID_LENGTH for value in path.values()):
            raise NotFound("No such resource.", code="NOT_FOUND")
        if route.dependant.body_params or access.raw_body:
            self._check_body(access.raw_body or JSON)

    def _check_body(self, expected: str) -> None:
        sent = (self.current_event.headers.get("content-type") or "").split(";")[0].strip().lower()
        if sent not in ("", expected):
            raise UnsupportedMediaType(
                f"Send the body with the header Content-Type: {expected}"
                + (f" (this request said {sent[:60]})." if sent else "."),
                details=[{"field": "Content-Type", "problem": f"expected {expected}"}],
            )
        if expected != JSON or not self.current_event.body:
            return
        if sent:  # media types are case-insensitive; Powertools' parser compares case-sensitively
            headers = self.current_event.raw_event.get("headers") or {}
            for name in [n for n in headers if n.lower() == "content-type"]:
                headers[name] = JSON
        try:
            self.current_event.json_body  # noqa: B018 - parsed once here (cached), read again by the validation
        except RecursionError as error:
            raise BadRequest("The JSON body is nested too deeply.", code="BAD_REQUEST") from error
        except ValueError as error:  # not JSON, or not UTF-8
            raise BadRequest("The body is not valid JSON.", code="BAD_REQUEST") from error

    # -- the OpenAPI document ------------------------------------------------------------------------------------
    def get_openapi_json_schema(self, *args: Any, **kwargs: Any) -> str:
        from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

        kwargs.setdefault(
            "security_schemes",
            {name: HTTPBearer.model_validate(scheme) for name, scheme in SECURITY_SCHEMES.items()},
        )
        return json.dumps(contract_document(json.loads(super().get_openapi_json_schema(*args, **kwargs)), self))


def _no_directory() -> OffererDirectory:
    raise RuntimeError("this function declares no offerer directory, so its routes cannot name an offerer")


def _inputs_of(func: Callable[..., Any], rule: str) -> tuple[bool, bool]:
    """Whether the handler takes query/body input beyond its path's ids (it can answer 400), and a JSON body."""
    hints = typing.get_type_hints(func, include_extras=True)
    path_names = {part[1:-1] for part in rule.split("/") if part.startswith("<")}
    has_input = has_body = False
    for name, hint in hints.items():
        if name == "return" or name in path_names:
            continue
        has_input = True
        metadata = getattr(hint, "__metadata__", ())
        base = typing.get_args(hint)[0] if metadata else hint
        explicit_body = any(isinstance(m, Body) for m in metadata)
        if explicit_body or (not metadata and inspect.isclass(base) and issubclass(base, BaseModel)):
            has_body = True
    return has_input, has_body


def _error_response_doc(status: int) -> dict[str, Any]:
    return {
        "description": HTTPStatus(status).phrase,
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def contract_document(document: dict[str, Any], resolver: ContractResolver) -> dict[str, Any]:
    """Powertools' document made to say what the API does: our error schema instead of its 422 validation error
    (our validation answers 400), the security schemes, non-JSON bodies (e.g. CSV) as declared, query parameters
    gathered in a model with their constraints (Powertools keeps only their type), and no body where the handler
    returns none."""
    routes = {
        (route.openapi_path, route.method.lower()): route
        for route in resolver._static_routes + resolver._dynamic_routes
    }
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            route = routes.get((path, method))
            access = access_of(route.func) if route is not None else None
            responses = operation.get("responses", {})
            generated = responses.get("422", {}).get("content", {}).get(JSON, {}).get("schema", {})
            if generated.get("$ref", "").endswith("/HTTPValidationError"):
                del responses["422"]
            for answer in responses.values():
                schema = answer.get("content", {}).get(JSON, {}).get("schema", {})
                if not answer.get("content") or schema.get("type") == "null":
                    answer.pop("content", None)  # 204: no body
            if access is not None and access.raw_body:
                media = access.raw_body
                operation["requestBody"] = {"required": True, "content": {media: {"schema": {"type": "string"}}}}
            if route is not None:
                _constrain_model_parameters(operation, route)
            for parameter in operation.get("parameters", []):
                parameter["schema"] = _not_null(parameter.get("schema", {}))
                declared = parameter["schema"].pop("title", None)
                if parameter.get("in") == "header" and str(declared).lower() == parameter.get("name"):
                    parameter["name"] = declared  # as the contract writes it (Powertools lowercases header names)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for generated_name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(generated_name, None)
    schemas["Error"] = ERROR_SCHEMA
    return document


def _constrain_model_parameters(operation: dict[str, Any], route: Any) -> None:
    """Query or header parameters gathered in a pydantic model (`Annotated[Filters, Query()]`): each parameter's
    schema as the model validates it (enums, formats, bounds), not Powertools' bare type."""
    for param in route.dependant.query_params + route.dependant.header_params:
        model = param.field_info.annotation
        if not (inspect.isclass(model) and issubclass(model, BaseModel)):
            continue
        location = param.field_info.in_.value
        schema = model.model_json_schema(by_alias=True, mode="validation")
        properties = _inline_refs(schema.get("properties", {}), schema.get("$defs", {}))
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == location and parameter.get("name") in properties:
                field_schema = dict(properties[parameter["name"]])
                field_schema.pop("title", None)
                parameter["schema"] = field_schema


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter is left out or sent as text, never null: `str | None = None` is an optional string."""
    alternatives = [a for a in schema.get("anyOf", ()) if a != {"type": "null"}]
    rest = {key: value for key, value in schema.items() if key != "anyOf" and not (key == "default" and value is None)}
    if "anyOf" not in schema:
        return rest
    return {**alternatives[0], **rest} if len(alternatives) == 1 else {"anyOf": alternatives, **rest}


def _inline_refs(value: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        reference = value.get("$ref", "")
        if reference.startswith("#/$defs/"):
            return _inline_refs(definitions[reference.removeprefix("#/$defs/")], definitions)
        return {key: _inline_refs(item, definitions) for key, item in value.items()}
    if isinstance(value, list):
        return [_inline_refs(item, definitions) for item in value]
    return value


def domain_error_response(error: DomainError) -> Response[str]:
    """A domain error as the contract answers it: its status, its body, its headers (Retry-After…)."""
    response = Response(status_code=error.status, content_type=JSON,
                        body=json.dumps(error.to_body(), ensure_ascii=False))  # fmt: skip
    response.headers.update(error.headers())
    return response


def build_resolver(directory: Callable[[], OffererDirectory] | None = None) -> ContractResolver:
    """A resolver with the contract's gate and every failure mapped to `{"code", "message", "details"}`.
    `directory` says which offerer owns an id, for routes that require membership (`@allow(member_of=...)`)."""
    app = ContractResolver(directory)

    @app.exception_handler(DomainError)  # type: ignore[untyped-decorator]
    def _domain_error(error: DomainError) -> Response[str]:
        if error.status == 429:
            count("RateLimited")
        return domain_error_response(error)

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def _validation_error(error: RequestValidationError) -> Response[str]:
        details = [{"field": _field_name(tuple(e.get("loc", ()))), "problem": e.get("msg", "")} for e in error.errors()]
        fields = ", ".join(dict.fromkeys(d["field"] or "body" for d in details))
        return error_response(400, "BAD_REQUEST", f"Invalid request: {fields}.", details)

    @app.not_found
    def _not_found(_: NotFoundError) -> Response[str]:
        return error_response(404, "NOT_FOUND", "No such route.")

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _unexpected(error: Exception) -> Response[str]:
        if aws_unavailable(error):  # throttled or timed out after botocore's retries: the client may retry
            logger.warning("AWS unavailable", extra={"error": type(error).__name__, "code": aws_error_code(error)})
            count("AwsUnavailable")
            return domain_error_response(Unavailable("The service is busy; retry in a moment."))
        # A bug, whatever the input: logged with its traceback, answered without it.
        logger.exception("unexpected error")
        return error_response(500, "INTERNAL_ERROR", "An unexpected error occurred.")

    return app


def identify(app: APIGatewayRestResolver) -> Caller | None:
    """Who calls, as API Gateway's authorizers said it; None when no authorizer let anyone in."""
    authorizer: dict[str, Any] = app.current_event.request_context.authorizer.raw_event or {}
    claims = authorizer.get("claims")
    if isinstance(claims, dict) and claims.get("sub"):
        return Caller(
            user_id=str(claims["sub"]),
            email=claims.get("email"),
            groups=parse_groups(claims.get("cognito:groups")),
        )
    # The project's Lambda authorizer (API keys, or a pro's token on the countermark API) puts flat context values.
    if authorizer.get("offererId"):
        return Caller(
            user_id=None,
            email=None,
            groups=frozenset(),
            api_key_offerer_id=str(authorizer["offererId"]),
            api_key_id=str(authorizer.get("apiKeyId", "")),
        )
    if authorizer.get("sub"):
        return Caller(
            user_id=str(authorizer["sub"]),
            email=authorizer.get("email"),
            groups=parse_groups(authorizer.get("groups")),
        )
    return None


# What AWS answers when it cannot take a request now (DynamoDB, SQS, SES, Cognito alike)
THROTTLING_CODES = frozenset({
    "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded", "Throttling",
    "TooManyRequestsException", "ServiceUnavailable", "InternalServerError", "InternalFailure",
    "TransactionInProgressException", "LimitExceededException",
})  # fmt: skip


def aws_error_code(error: BaseException) -> str:
    response = getattr(error, "response", None)
    return str((response or {}).get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def aws_http_status(error: BaseException) -> int:
    """The HTTP status AWS answered (botocore's `ResponseMetadata`), 0 when the error carries none."""
    response = getattr(error, "response", None)
    metadata = response.get("ResponseMetadata", {}) if isinstance(response, dict) else {}
    return int(metadata.get("HTTPStatusCode") or 0) if isinstance(metadata, dict) else 0


def aws_unavailable(error: BaseException) -> bool:
    """Throttled, or AWS unreachable or silent within botocore's timeouts, once its retries are spent — also when a
    library wrapped it (Powertools' idempotency raises its persistence error from the botocore one)."""
    seen = 0
    while error is not None and seen < 5:
        if _aws_unavailable(error):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1  # type: ignore[assignment]
    return False


def _aws_unavailable(error: BaseException) -> bool:
    from botocore.exceptions import ConnectionError as BotocoreConnectionError
    from botocore.exceptions import ReadTimeoutError

    from pass_culture.dynamo import Throttled, TransactionCancelled

    if isinstance(error, BotocoreConnectionError | ReadTimeoutError | Throttled):
        return True
    if isinstance(error, TransactionCancelled) and error.conflicted() and not error.failed_positions():
        return True  # another transaction held an item (two counters on one pricing point): nothing was written
    # AWS's own failure (5xx), whatever its body names: also a bare 500/502/503/504 (code "500"…, no `__type`) that
    # botocore retried as transient.
    return aws_error_code(error) in THROTTLING_CODES or aws_http_status(error) >= 500


def caller_of(app: APIGatewayRestResolver) -> Caller:
    """The authenticated caller of the current request; 401 when API Gateway passed no identity."""
    caller = identify(app)
    if caller is None:
        raise Unauthenticated("Authentication required.")
    # who acts, as keys of the request's log lines: the offerer of an API key, or the user's pseudonymous id
    logger.append_keys(offerer_id=caller.api_key_offerer_id, api_key_id=caller.api_key_id, user_id=caller.user_id)
    return caller


__all__ = ["ContractResolver", "build_resolver", "caller_of", "error_response", "identify"]
