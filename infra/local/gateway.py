"""The local API gateway: chalice's local server, its routes read from the template's `Api` events, each request
turned into an API Gateway (REST, v1) proxy event and handed to that function's real `lambda_handler`.

Auth as API Gateway does it: the Cognito authorizer verifies the ID token against the user pool's JWKS and puts the
claims (as strings) in `requestContext.authorizer.claims`; the API-key authorizer is the project's own function.
Answers for a missing or bad token, an unknown route and a wrong method follow the template's gateway responses.

HTTP as API Gateway speaks it: a request not answered 29 s after it arrived (waiting for a free function environment
included) is answered 504; a function that fails, times out or answers a malformed proxy response is answered 502;
the function's `headers` and `multiValueHeaders` are merged, one header line per value; a 204 or 304 carries neither
body nor Content-Type. Whatever the client sends (unknown methods, malformed request lines or headers, bad
Content-Length), the answer is JSON and the connection is not dropped where an answer can be given.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from http import HTTPStatus
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from chalice.app import RouteEntry
from chalice.local import ChaliceRequestHandler, LambdaEventConverter, RouteMatcher

from infra.local.runtime import FunctionError, FunctionPool, IntegrationTimeout

if TYPE_CHECKING:
    from infra.local.template import ApiRoute

log = logging.getLogger("local.gateway")

STAGE = "local"
INTEGRATION_TIMEOUT_SECONDS = 29.0  # API Gateway REST: the integration timeout, at most 29 s
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
API_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # what a REST API can route
NO_BODY_STATUSES = frozenset({204, 304})
HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer"})
Response = dict[str, Any]


def cors_headers(cors: Mapping[str, Any] | None) -> dict[str, str]:
    """The preflight's headers from a SAM Api's resolved `Cors` (its values are quoted strings: "'*'")."""
    names = {"AllowOrigin": "Access-Control-Allow-Origin", "AllowHeaders": "Access-Control-Allow-Headers",
             "AllowMethods": "Access-Control-Allow-Methods", "MaxAge": "Access-Control-Max-Age"}  # fmt: skip
    return {header: str((cors or {})[name]).strip("'") for name, header in names.items() if name in (cors or {})}


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "multiValueHeaders": {},
        "body": json.dumps(body, ensure_ascii=False),
    }


def gateway_error(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return json_response(status, {"code": code, "message": message, "details": []}, headers)


# The template's `GatewayResponses.UNAUTHORIZED` (a test holds them equal): our keys, and the public pass Culture API's
# `auth` (a string there, not a list), which its clients read on the countermark routes.
UNAUTHORIZED_BODY = {
    "auth": "API key or login required", "code": "UNAUTHENTICATED", "message": "Authentication required.",
    "details": [],
}  # fmt: skip


def unauthorized() -> Response:
    return json_response(401, UNAUTHORIZED_BODY)


# What API Gateway answers when the Lambda authorizer fails otherwise than "Unauthorized" (template.yaml
# GatewayResponses AUTHORIZER_FAILURE): its store or Cognito unavailable, the caller may retry.
AUTHORIZER_FAILURE_BODY = {
    "code": "SERVICE_UNAVAILABLE", "message": "The service is busy; retry in a moment.", "details": [],
}  # fmt: skip


def authorizer_failed() -> Response:
    return json_response(503, AUTHORIZER_FAILURE_BODY, {"Retry-After": "1"})


def integration_failed() -> Response:
    """API Gateway's answer when the Lambda integration fails (error, timeout, malformed answer)."""
    return json_response(502, {"message": "Internal server error"})


def integration_timed_out() -> Response:
    """API Gateway's answer when the integration has not answered within its timeout."""
    return json_response(504, {"message": "Endpoint request timed out"})


class LocalApi:
    """The object chalice's local server serves: `routes`, `api.binary_types` and `__call__(event, context)`."""

    def __init__(
        self,
        routes: list[tuple[ApiRoute, FunctionPool]],
        verify_cognito_token: Callable[[str], dict[str, Any] | None],
        api_key_authorizer: FunctionPool | None,
        integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS,
        cors: Mapping[str, str] | None = None,
    ) -> None:
        self.targets: dict[tuple[str, str], tuple[ApiRoute, FunctionPool]] = {}
        self.routes: dict[str, dict[str, RouteEntry]] = {}
        for route, function in routes:
            self.targets[(route.path, route.method)] = (route, function)
            entry = RouteEntry(lambda: None, function.function.logical_id, route.path, route.method)
            self.routes.setdefault(route.path, {})[route.method] = entry
        self.api = SimpleNamespace(binary_types=["application/octet-stream", "image/png", "image/jpeg", "image/webp"])
        self.matcher = RouteMatcher(list(self.routes))
        self.converter = LambdaEventConverter(self.matcher, self.api.binary_types)
        self.integration_timeout = integration_timeout
        self._verify_cognito_token = verify_cognito_token
        self._api_key_authorizer = api_key_authorizer
        self._cors = dict(cors or {})  # the template's Api `Cors`, as the preflight's headers

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None, received_at: float
    ) -> Response:
        """One HTTP request, `received_at` (time.monotonic()) being when it arrived: its 29 s start then."""
        try:
            event = self.converter.create_lambda_event(method=method, path=path, headers=headers, body=body)
        except ValueError:
            return gateway_error(404, "NOT_FOUND", "No such route.")
        return self.dispatch(event, deadline=received_at + self.integration_timeout)

    def __call__(self, event: dict[str, Any], context: Any) -> Response:
        return self.dispatch(event, deadline=time.monotonic() + self.integration_timeout)

    def dispatch(self, event: dict[str, Any], deadline: float) -> Response:
        context_ = event["requestContext"]
        resource, method = context_["resourcePath"], context_["httpMethod"]
        if method == "OPTIONS" and self._cors and resource in self.routes and (resource, method) not in self.targets:
            # API Gateway's own preflight answer (SAM `Cors`): no authorizer, no function
            return {"statusCode": 200, "headers": dict(self._cors), "multiValueHeaders": {}, "body": ""}
        if (resource, method) not in self.targets:
            allowed = ", ".join(sorted(self.routes.get(resource, {})))
            return gateway_error(405, "METHOD_NOT_ALLOWED", f"Allowed: {allowed}.", {"Allow": allowed})
        route, function = self.targets[(resource, method)]
        proxy_event = to_proxy_event(event)
        try:
            denied = self._authorize(route, proxy_event, deadline)
            if denied is not None:
                return denied
            response = function.invoke(proxy_event, deadline=deadline)
        except IntegrationTimeout:
            return integration_timed_out()
        except FunctionError:  # raised, timed out or died; the traceback is in the function's log
            return integration_failed()
        if not isinstance(response, dict) or not _is_status(response.get("statusCode")):
            log.warning("%s answered a malformed proxy response: %.200r", function.function.logical_id, response)
            return integration_failed()
        response = dict(response)
        response["headers"] = response.get("headers") or {}
        response["multiValueHeaders"] = response.get("multiValueHeaders") or {}
        return response

    def _authorize(self, route: ApiRoute, event: dict[str, Any], deadline: float) -> Response | None:
        if route.authorizer == "NONE":
            return None
        headers = {k.lower(): v for k, v in event["headers"].items()}
        authorization = headers.get("authorization", "")
        if route.authorizer == "CognitoAuthorizer":
            scheme, _, token = authorization.partition(" ")
            claims = self._verify_cognito_token(token.strip() if scheme.lower() == "bearer" else authorization)
            if claims is None:
                return unauthorized()
            event["requestContext"]["authorizer"] = {"claims": stringify_claims(claims)}
            return None
        if self._api_key_authorizer is None or not authorization:
            return unauthorized()
        try:
            policy = self._api_key_authorizer.invoke(authorizer_event(event), deadline=deadline)
        except FunctionError as error:  # as API Gateway: "Unauthorized" is a 401, any other failure is not
            return unauthorized() if error.message == "Unauthorized" else authorizer_failed()
        statements = policy.get("policyDocument", {}).get("Statement", []) if isinstance(policy, dict) else []
        if not statements or any(statement.get("Effect") != "Allow" for statement in statements):
            return gateway_error(403, "FORBIDDEN", "Access denied.")
        event["requestContext"]["authorizer"] = {"principalId": policy.get("principalId"), **policy.get("context", {})}
        return None


def _is_status(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 200 <= value <= 599


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


def _header_values(value: Any) -> list[str]:
    """A header's values as HTTP can carry them: no line breaks (no header injection), Latin-1 only."""
    values = value if isinstance(value, list | tuple) else [value]
    texts = [" ".join(str(v).splitlines()) for v in values if v is not None]
    return [text.encode("latin-1", errors="replace").decode("latin-1") for text in texts]


def header_lines(response: Response) -> list[tuple[str, str]]:
    """`headers` and `multiValueHeaders` merged as API Gateway merges them: one list of values per name (names
    compared without case), `multiValueHeaders` winning where both give the same value; one line per value."""
    merged: dict[str, tuple[str, list[str]]] = {}
    for source in ("headers", "multiValueHeaders"):
        for name, value in (response.get(source) or {}).items():
            key = str(name).lower()
            listed = _header_values(value)
            known = merged.get(key, (str(name), []))[1]
            merged[key] = (str(name), [*(v for v in known if v not in listed), *listed])
    lines: list[tuple[str, str]] = []
    for key, (name, values) in merged.items():
        if key in HOP_BY_HOP or not name.strip() or not name.isascii() or any(c in name for c in " :\r\n"):
            continue
        if key == "content-type":
            values = values[-1:]  # one Content-Type, whatever the function said
        lines.extend((name, value) for value in values)
    return lines


def response_body(response: Response) -> bytes:
    body = response.get("body")
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if response.get("isBase64Encoded"):
        return base64.b64decode(body)
    return str(body).encode()


class RequestError(Exception):
    """A request the gateway answers itself, without reading further (its connection is then closed)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


LocalHandler = Callable[[str, str, dict[str, str], bytes | None], Response | None]


def request_handler_class(api: LocalApi, local_routes: LocalHandler) -> type[ChaliceRequestHandler]:
    """chalice's request handler, with the gateway's own answers (local routes, unknown routes, HTTP errors) in front
    and every method (not only do_GET…do_OPTIONS) dispatched."""

    class Handler(ChaliceRequestHandler):
        received_at = 0.0

        def handle_one_request(self) -> None:
            """http.server's, except that any method reaches `_dispatch` (the base answers an HTML 501 to a method
            it has no do_* for) and the request's arrival time is kept."""
            try:
                self.raw_requestline = self.rfile.readline(65537)
                self.received_at = time.monotonic()
                if len(self.raw_requestline) > 65536:
                    self.requestline, self.request_version, self.command = "", "HTTP/1.1", ""
                    self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                    return
                if not self.raw_requestline:
                    self.close_connection = True
                    return
                if not self.parse_request():  # it answered (400, 431, 505…) through send_error
                    return
                self._dispatch()
                self.wfile.flush()
            except (TimeoutError, ConnectionError) as error:
                self.log_error("connection lost: %r", error)
                self.close_connection = True

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """http.server's own errors (malformed request line or headers, unsupported version) in the contract's
            JSON shape rather than an HTML page; the connection is closed after them."""
            try:
                status = HTTPStatus(code)
            except ValueError:
                status = HTTPStatus.BAD_REQUEST
            self.close_connection = True
            if not self.request_version.startswith("HTTP/1."):
                self.request_version = "HTTP/1.1"  # a status line, even to a request line we could not read
            self._write(gateway_error(status.value, status.name, message or status.phrase))

        def _dispatch(self) -> None:
            method = self.command
            try:
                body = self._read_body()
            except RequestError as error:
                self.close_connection = True
                self._write(gateway_error(error.status, error.code, error.message))
                return
            try:
                response = self._answer(method, dict(self.headers), body)
            except Exception:  # the gateway's own fault: say so, keep serving
                log.exception("the local gateway failed on %s %s", method, self.path)
                response = gateway_error(500, "LOCAL_GATEWAY_ERROR", "The local gateway failed (see its output).")
            self._write(response)

        def _answer(self, method: str, headers: dict[str, str], body: bytes | None) -> Response:
            if method not in API_METHODS:
                allowed = ", ".join(sorted(API_METHODS))
                return gateway_error(405, "METHOD_NOT_ALLOWED", f"{method} is not supported.", {"Allow": allowed})
            response = local_routes(method, self.path, headers, body)
            if response is not None:
                return response
            return api.handle(method, self.path, headers, body, self.received_at)

        def _read_body(self) -> bytes | None:
            encoding = self.headers.get("Transfer-Encoding")
            if encoding is not None:
                if encoding.strip().lower() != "chunked":
                    raise RequestError(400, "BAD_REQUEST", f"Unsupported Transfer-Encoding: {encoding}.")
                return self._read_chunked() or None
            length_text = self.headers.get("Content-Length")
            if length_text is None:
                return None
            if not length_text.strip().isdigit():
                raise RequestError(400, "BAD_REQUEST", "Invalid Content-Length.")
            length = int(length_text)
            if length > MAX_REQUEST_BYTES:
                raise RequestError(413, "PAYLOAD_TOO_LARGE", "Request Too Long.")
            body = self.rfile.read(length) if length else b""
            if len(body) < length:
                raise ConnectionError("the client closed the connection mid-body")
            return body or None

        def _read_chunked(self) -> bytes:
            chunks: list[bytes] = []
            size = 0
            while True:
                line = self.rfile.readline(1026)
                try:
                    chunk_size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise RequestError(400, "BAD_REQUEST", "Malformed chunked body.") from None
                if chunk_size < 0:
                    raise RequestError(400, "BAD_REQUEST", "Malformed chunked body.")
                if chunk_size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                size += chunk_size
                if size > MAX_REQUEST_BYTES:
                    raise RequestError(413, "PAYLOAD_TOO_LARGE", "Request Too Long.")
                chunk = self.rfile.read(chunk_size)
                if len(chunk) < chunk_size:
                    raise ConnectionError("the client closed the connection mid-body")
                chunks.append(chunk)
                self.rfile.readline(3)  # the CRLF after the chunk

        def _write(self, response: Response) -> None:
            status = int(response["statusCode"])
            lines = header_lines(response)
            body = response_body(response)
            if status in NO_BODY_STATUSES:
                lines = [(name, value) for name, value in lines if name.lower() != "content-type"]
                body = b""
            elif body and not any(name.lower() == "content-type" for name, _ in lines):
                lines.append(("Content-Type", "application/json"))  # API Gateway's default
            self.send_response(status)
            for name, value in lines:
                self.send_header(name, value)
            if status not in NO_BODY_STATUSES:
                self.send_header("Content-Length", str(len(body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
