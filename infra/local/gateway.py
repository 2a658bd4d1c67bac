"""The local API gateway: chalice's local server, its routes read from the template's `Api` events, each request
turned into an API Gateway (REST, v1) proxy event and handed to that function's real `lambda_handler`.

Auth as API Gateway does it: the Cognito authorizer verifies the ID token against the user pool's JWKS and puts the
claims (as strings) in `requestContext.authorizer.claims`; the API-key authorizer is the project's own function.
Answers for a missing or bad token, an unknown route and a wrong method follow the template's gateway responses.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from chalice.app import RouteEntry
from chalice.local import ChaliceRequestHandler, LocalGatewayException, RouteMatcher

from infra.local.runtime import FunctionError, FunctionPool

if TYPE_CHECKING:
    from infra.local.template import ApiRoute

STAGE = "local"
Response = dict[str, Any]


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "multiValueHeaders": {},
        "body": json.dumps(body, ensure_ascii=False),
    }


def gateway_error(status: int, code: str, message: str) -> Response:
    return json_response(status, {"code": code, "message": message, "details": []})


class LocalApi:
    """The object chalice's local server serves: `routes`, `api.binary_types` and `__call__(event, context)`."""

    def __init__(
        self,
        routes: list[tuple[ApiRoute, FunctionPool]],
        verify_cognito_token: Callable[[str], dict[str, Any] | None],
        api_key_authorizer: FunctionPool | None,
    ) -> None:
        self.targets: dict[tuple[str, str], tuple[ApiRoute, FunctionPool]] = {}
        self.routes: dict[str, dict[str, RouteEntry]] = {}
        for route, function in routes:
            self.targets[(route.path, route.method)] = (route, function)
            entry = RouteEntry(lambda: None, function.function.logical_id, route.path, route.method)
            self.routes.setdefault(route.path, {})[route.method] = entry
        self.api = SimpleNamespace(binary_types=["application/octet-stream", "image/png", "image/jpeg", "image/webp"])
        self.matcher = RouteMatcher(list(self.routes))
        self._verify_cognito_token = verify_cognito_token
        self._api_key_authorizer = api_key_authorizer

    def __call__(self, event: dict[str, Any], context: Any) -> Response:
        context_ = event["requestContext"]
        resource, method = context_["resourcePath"], context_["httpMethod"]
        if (resource, method) not in self.targets:
            allowed = ", ".join(sorted(self.routes.get(resource, {})))
            return json_response(405, {"code": "METHOD_NOT_ALLOWED", "message": f"Allowed: {allowed}.", "details": []})
        route, function = self.targets[(resource, method)]
        proxy_event = to_proxy_event(event)
        denied = self._authorize(route, proxy_event)
        if denied is not None:
            return denied
        try:
            response = function.invoke(proxy_event)
        except FunctionError:
            # API Gateway's answer when the integration fails; the traceback is in the function's log.
            return json_response(502, {"message": "Internal server error"})
        except TimeoutError:
            return json_response(504, {"message": "Endpoint request timed out"})
        response.setdefault("headers", {})
        response["headers"] = response["headers"] or {}
        response["multiValueHeaders"] = response.get("multiValueHeaders") or {}
        return dict(response)

    def _authorize(self, route: ApiRoute, event: dict[str, Any]) -> Response | None:
        if route.authorizer == "NONE":
            return None
        headers = {k.lower(): v for k, v in event["headers"].items()}
        authorization = headers.get("authorization", "")
        if route.authorizer == "CognitoAuthorizer":
            scheme, _, token = authorization.partition(" ")
            claims = self._verify_cognito_token(token.strip() if scheme.lower() == "bearer" else authorization)
            if claims is None:
                return gateway_error(401, "UNAUTHENTICATED", "Authentication required.")
            event["requestContext"]["authorizer"] = {"claims": stringify_claims(claims)}
            return None
        if self._api_key_authorizer is None or not authorization:
            return gateway_error(401, "UNAUTHENTICATED", "Authentication required.")
        try:
            policy = self._api_key_authorizer.invoke(authorizer_event(event))
        except FunctionError:
            return gateway_error(401, "UNAUTHENTICATED", "Authentication required.")
        statements = policy.get("policyDocument", {}).get("Statement", [])
        if not statements or any(statement.get("Effect") != "Allow" for statement in statements):
            return gateway_error(403, "FORBIDDEN", "Access denied.")
        event["requestContext"]["authorizer"] = {"principalId": policy.get("principalId"), **policy.get("context", {})}
        return None


def stringify_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """API Gateway's Cognito authorizer hands every claim over as a string (lists joined by commas)."""
    return {
        name: ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
        for name, value in claims.items()
    }


def to_proxy_event(event: dict[str, Any]) -> dict[str, Any]:
    """chalice's event is thinner than API Gateway's: fill in what a REST proxy integration receives."""
    context_ = event["requestContext"]
    raw_path = context_["path"]
    query = event.get("multiValueQueryStringParameters") or None
    body = event.get("body")
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    headers: dict[str, str] = dict(event.get("headers") or {})
    return {
        "resource": context_["resourcePath"],
        "path": raw_path,
        "httpMethod": context_["httpMethod"],
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} if query else None,
        "multiValueQueryStringParameters": query,
        "pathParameters": {k: unquote(v) for k, v in (event.get("pathParameters") or {}).items()} or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": context_["resourcePath"],
            "httpMethod": context_["httpMethod"],
            "path": f"/{STAGE}{raw_path}",
            "stage": STAGE,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": context_.get("identity", {}).get("sourceIp", "127.0.0.1")},
            "accountId": "123456789012",
            "apiId": "local",
        },
        "body": body,
        "isBase64Encoded": bool(event.get("isBase64Encoded", False)),
    }


def authorizer_event(event: dict[str, Any]) -> dict[str, Any]:
    """The REQUEST authorizer's input, as API Gateway builds it."""
    method_arn = f"arn:aws:execute-api:eu-west-3:123456789012:local/{STAGE}/{event['httpMethod']}{event['path']}"
    return {
        "type": "REQUEST",
        "methodArn": method_arn,
        "resource": event["resource"],
        "path": event["path"],
        "httpMethod": event["httpMethod"],
        "headers": event["headers"],
        "queryStringParameters": event["queryStringParameters"],
        "pathParameters": event["pathParameters"],
        "requestContext": event["requestContext"],
    }


LocalHandler = Callable[[str, str, dict[str, str], bytes | None], Response | None]


def request_handler_class(api: LocalApi, local_routes: LocalHandler) -> type[ChaliceRequestHandler]:
    """chalice's request handler, with the gateway's own answers (local routes, unknown routes) in front."""

    class Handler(ChaliceRequestHandler):
        def _generic_handle(self) -> None:
            path = urlsplit(self.path).path
            headers, body = self._parse_payload()
            response = local_routes(self.command, self.path, headers, body)
            if response is None:
                try:
                    api.matcher.match_route(path)
                except ValueError:
                    response = gateway_error(404, "NOT_FOUND", "No such route.")
            if response is None:
                self._replay(headers, body)
                return
            payload = response["body"]
            raw = payload if isinstance(payload, bytes) else str(payload).encode()
            self._send_http_response(response["statusCode"], dict(response["headers"]), raw)

        def _replay(self, headers: dict[str, str], body: bytes | None) -> None:
            try:
                response = self.local_gateway.handle_request(
                    method=self.command, path=self.path, headers=headers, body=body
                )
                merged = {**response["headers"], **response["multiValueHeaders"]}
                response = self._handle_binary(response)
                self._send_http_response(response["statusCode"], merged, response["body"])
            except LocalGatewayException as error:  # chalice's own gateway answers
                self._send_error_response(error)

        # The base class binds do_GET & co. to its own _generic_handle: bind them to ours.
        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
