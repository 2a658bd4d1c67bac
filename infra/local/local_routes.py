"""The gateway's local-only routes (api.md, "Local-only routes"): users and login against the user pool, the SES
outbox, jobs fired now, files the jobs wrote, and the merged OpenAPI document with Swagger UI. Never deployed."""

from __future__ import annotations

import json
import mimetypes
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from infra.local.background import schedule_input
from infra.local.cognito import LocalCognito
from infra.local.gateway import Response, gateway_error, json_response
from infra.local.outbox import DEFAULT_LIMIT, MAX_LIMIT
from infra.local.runtime import FunctionError

if TYPE_CHECKING:
    from infra.local.stack import LocalStack

# Swagger UI (4.15.5) from the swagger-ui-bundle package, served under /docs/: /docs works with no internet.
SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pass Culture API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
</head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js" charset="utf-8"></script>
<script src="/docs/swagger-initializer.js" charset="utf-8"></script>
</body></html>"""
# validatorUrl: null, or Swagger UI sends the document to validator.swagger.io. Swagger UI 4 reads OpenAPI 3.0:
# it is given the merged document as 3.0 (/docs/openapi.json), the 3.1 original staying at /openapi.json.
SWAGGER_INITIALIZER = """window.onload = function () {
  window.ui = SwaggerUIBundle({url: "/docs/openapi.json", dom_id: "#swagger-ui", validatorUrl: null,
    deepLinking: true, presets: [SwaggerUIBundle.presets.apis]});
};"""
ASSET_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".map": "application/json"}
MAX_KEY_BYTES = 1024  # S3's limit on a key


def swagger_ui_dir() -> Path:
    from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

    return Path(str(swagger_ui_path))


class BadInput(Exception):
    pass


def _json_body(body: bytes | None) -> dict[str, Any]:
    try:
        loaded = json.loads(body or b"{}")
    except ValueError as error:
        raise BadInput("The body is not valid JSON.") from error
    if not isinstance(loaded, dict):
        raise BadInput("The body must be a JSON object.")
    return loaded


def _required(body: dict[str, Any], *names: str) -> list[str]:
    missing = [name for name in names if not isinstance(body.get(name), str) or not body[name]]
    if missing:
        raise BadInput(f"Missing or invalid: {', '.join(missing)}.")
    return [str(body[name]) for name in names]


def _instant(text: str, name: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise BadInput(f"{name} must be an ISO 8601 instant.") from error
    if at.tzinfo is None:
        raise BadInput(f"{name} must carry an offset (e.g. 2026-11-16T02:00:00+01:00).")
    return at


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


Query = dict[str, list[str]]
Handler = Callable[[re.Match[str], bytes | None, Query], Response]


class LocalRoutes:
    def __init__(self, stack: LocalStack) -> None:
        self._stack = stack
        self._openapi: dict[str, Any] | None = None
        self._assets: dict[str, Response] = {}
        self._cognito = LocalCognito(stack)
        self._request = threading.local()  # this request's method and headers, for a handler of any method ("*")
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("POST", re.compile(r"/_local/users"), self.create_user),
            ("POST", re.compile(r"/_local/login"), self.login),
            ("*", re.compile(r"/_local/cognito/?"), self.cognito),
            ("GET", re.compile(r"/_local/outbox"), self.outbox),
            ("POST", re.compile(r"/_local/jobs/(?P<job>[^/]+)"), self.run_job),
            ("GET", re.compile(r"/_local/files/(?P<key>.*)"), self.file),
            ("GET", re.compile(r"/openapi\.json"), self.openapi),
            ("GET", re.compile(r"/docs/?"), self.docs),
            ("GET", re.compile(r"/docs/openapi\.json"), self.docs_openapi),
            ("GET", re.compile(r"/docs/(?P<asset>[^/]+)"), self.docs_asset),
        ]

    def __call__(self, method: str, raw_path: str, headers: dict[str, str], body: bytes | None) -> Response | None:
        parts = urlsplit(raw_path)
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(parts.path)
            if match is None:
                continue
            if method != route_method and route_method != "*":
                return gateway_error(405, "METHOD_NOT_ALLOWED", f"Allowed: {route_method}.", {"Allow": route_method})
            self._request.method, self._request.headers = method, headers
            try:
                return handler(match, body, parse_qs(parts.query, keep_blank_values=True))
            except BadInput as error:
                return gateway_error(400, "BAD_REQUEST", str(error))
        return None

    # -- identity ------------------------------------------------------------------------------------------------
    def create_user(self, _: re.Match[str], body: bytes | None, __: Query) -> Response:
        payload = _json_body(body)
        email_, password, group, first_name, last_name = _required(
            payload, "email", "password", "group", "firstName", "lastName"
        )
        if group not in ("beneficiary", "pro", "admin", "teacher", "institution_head"):
            raise BadInput("group must be one of beneficiary, pro, admin, teacher, institution_head.")
        cognito = self._stack.aws.client("cognito-idp")
        try:
            user_id = self._stack.create_user(email_, password, group, first_name, last_name, payload.get("phone"))
        except cognito.exceptions.UsernameExistsException:
            return gateway_error(409, "USER_EXISTS", "A user with this email exists.")
        except cognito.exceptions.InvalidPasswordException as error:
            raise BadInput(str(error)) from error
        return json_response(201, {"userId": user_id})

    def login(self, _: re.Match[str], body: bytes | None, __: Query) -> Response:
        email_, password = _required(_json_body(body), "email", "password")
        token = self._stack.login(email_, password)
        if token is None:
            return gateway_error(401, "UNAUTHENTICATED", "Wrong email or password.")
        return json_response(200, {"idToken": token})

    def cognito(self, _: re.Match[str], body: bytes | None, __: Query) -> Response:
        """Cognito's user pool API as the portal calls it in AWS (infra/local/cognito.py)."""
        return self._cognito.handle(self._request.method, self._request.headers, body)

    # -- outbox --------------------------------------------------------------------------------------------------
    def outbox(self, _: re.Match[str], __: bytes | None, query: Query) -> Response:
        """`?limit=` (newest N, default 100, at most 1000), `?since=` (an ISO instant), `?to=` (a recipient)."""
        limit_text = _one(query, "limit")
        if limit_text is not None and (not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT):
            raise BadInput(f"limit must be a whole number from 1 to {MAX_LIMIT}.")
        limit = int(limit_text) if limit_text is not None else DEFAULT_LIMIT
        since_text = _one(query, "since")
        if since_text is not None:  # an offset's "+" left unencoded in a query string arrives as a space
            since_text = re.sub(r" (\d\d:?\d\d)$", r"+\1", since_text.strip())
        since = _instant(since_text, "since") if since_text is not None else None
        to = _one(query, "to")
        if to is not None and not to.strip():
            raise BadInput("to must be an email address.")
        items = self._stack.aws.outbox.items(limit=limit, since=since, to=to.strip() if to else None)
        return json_response(200, {"items": items})

    # -- jobs and files ------------------------------------------------------------------------------------------
    def run_job(self, match: re.Match[str], body: bytes | None, _: Query) -> Response:
        """Runs the job now (as of `time` in the body, else now) with the schedule's event, SYNCHRONOUSLY, like
        `aws lambda invoke` (InvocationType RequestResponse): answers the job's report, or its error at once. Unlike
        the schedule's own runs (asynchronous: Lambda's retries, then the on-failure queue), nothing is retried and
        nothing is sent to the on-failure queue or the schedules' DLQ."""
        job = match.group("job")
        found = self._stack.schedule_for_job(job)
        if found is None:
            return gateway_error(404, "UNKNOWN_JOB", f"No schedule runs '{job}'.")
        schedule, function = found
        requested = _json_body(body).get("time")
        at = _instant(str(requested), "time") if requested else datetime.now(UTC)
        try:
            return json_response(200, function.invoke(schedule_input(schedule, at)))
        except FunctionError as error:
            if error.status is not None and error.body is not None:
                return json_response(error.status, error.body)
            return gateway_error(500, "JOB_FAILED", f"{error.type}: {error.message}")

    def file(self, match: re.Match[str], _: bytes | None, __: Query) -> Response:
        not_found = gateway_error(404, "NOT_FOUND", "No such file.")
        try:
            key = unquote(match.group("key"), errors="strict")
        except UnicodeDecodeError:
            return not_found  # not UTF-8: no S3 key is
        segments = key.split("/")
        if (
            not key
            or len(key.encode()) > MAX_KEY_BYTES
            or any(segment in ("", ".", "..") for segment in segments)
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in key)
        ):
            return not_found  # what the jobs write is plain `folder/name.ext`
        s3 = self._stack.aws.client("s3")
        try:
            found = s3.get_object(Bucket=self._stack.files_bucket, Key=key)
        except s3.exceptions.ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "InvalidKey") or status == 404:
                return not_found
            raise
        content_type = found.get("ContentType") or "application/octet-stream"
        return {"statusCode": 200, "headers": {"Content-Type": content_type}, "body": found["Body"].read()}

    # -- documentation -------------------------------------------------------------------------------------------
    def openapi(self, _: re.Match[str], __: bytes | None, ___: Query) -> Response:
        return json_response(200, self._merged_openapi())

    def _merged_openapi(self) -> dict[str, Any]:
        if self._openapi is None:
            self._openapi = self._stack.merged_openapi()
        return self._openapi

    def docs(self, _: re.Match[str], __: bytes | None, ___: Query) -> Response:
        return {"statusCode": 200, "headers": {"Content-Type": "text/html; charset=utf-8"}, "body": SWAGGER_PAGE}

    def docs_openapi(self, _: re.Match[str], __: bytes | None, ___: Query) -> Response:
        return json_response(200, openapi_30(self._merged_openapi()))

    def docs_asset(self, match: re.Match[str], _: bytes | None, __: Query) -> Response:
        name = match.group("asset")
        if name not in self._assets:
            if name == "swagger-initializer.js":
                content: bytes = SWAGGER_INITIALIZER.encode()
            else:
                files = {path.name: path for path in swagger_ui_dir().iterdir() if path.is_file()}
                if name not in files or name.startswith("index"):
                    return gateway_error(404, "NOT_FOUND", "No such route.")
                content = files[name].read_bytes()
            suffix = Path(name).suffix
            content_type = ASSET_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
            self._assets[name] = {
                "statusCode": 200,
                "headers": {"Content-Type": content_type, "Cache-Control": "public, max-age=3600"},
                "body": content,
            }
        return self._assets[name]


def openapi_30(document: dict[str, Any]) -> dict[str, Any]:
    """The merged OpenAPI 3.1 document as Swagger UI 4 reads it (3.0): `anyOf [X, {type: null}]` becomes X with
    `nullable`, `type: [X, "null"]` likewise, `const` an enum of one, `examples` one `example`, numeric
    exclusive bounds their 3.0 booleans."""

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: convert(value) for key, value in node.items()}
        for combinator in ("anyOf", "oneOf"):
            options = out.get(combinator)
            if isinstance(options, list) and any(o == {"type": "null"} for o in options):
                rest = [o for o in options if o != {"type": "null"}]
                del out[combinator]
                if len(rest) == 1 and isinstance(rest[0], dict):
                    out = {**rest[0], **out} if "$ref" not in rest[0] else {"allOf": rest, **out}
                else:
                    out[combinator] = rest
                out["nullable"] = True
        if isinstance(out.get("type"), list):
            types = [t for t in out["type"] if t != "null"]
            if len(types) < len(out["type"]):
                out["nullable"] = True
            out["type"] = types[0] if len(types) == 1 else types
        if "const" in out:
            out["enum"] = [out.pop("const")]
        if isinstance(out.get("examples"), list) and "example" not in out and out["examples"]:
            out["example"] = out.pop("examples")[0]
        for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if isinstance(out.get(bound), int | float) and not isinstance(out.get(bound), bool):
                out[plain] = out[bound]
                out[bound] = True
        return out

    converted = {key: convert(value) for key, value in document.items() if key != "openapi"}
    return {"openapi": "3.0.3", **converted}
