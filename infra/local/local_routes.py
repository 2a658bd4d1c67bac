"""The gateway's local-only routes (api.md, "Local-only routes"): users and login against the user pool, the SES
outbox, jobs fired now, files the jobs wrote, and the merged OpenAPI document with Swagger UI. Never deployed."""

from __future__ import annotations

import email
import email.policy
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit
from urllib.request import urlopen

from infra.local.background import schedule_input
from infra.local.gateway import Response, gateway_error, json_response
from infra.local.runtime import FunctionError

if TYPE_CHECKING:
    from infra.local.stack import LocalStack

SWAGGER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>pass Culture API</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});</script>
</body></html>"""


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


class LocalRoutes:
    def __init__(self, stack: LocalStack) -> None:
        self._stack = stack
        self._first_seen: dict[str, datetime] = {}
        self._openapi: dict[str, Any] | None = None
        self._routes: list[tuple[str, re.Pattern[str], Callable[[re.Match[str], bytes | None], Response]]] = [
            ("POST", re.compile(r"/_local/users"), self.create_user),
            ("POST", re.compile(r"/_local/login"), self.login),
            ("GET", re.compile(r"/_local/outbox"), self.outbox),
            ("POST", re.compile(r"/_local/jobs/(?P<job>[^/]+)"), self.run_job),
            ("GET", re.compile(r"/_local/files/(?P<key>.+)"), self.file),
            ("GET", re.compile(r"/openapi\.json"), self.openapi),
            ("GET", re.compile(r"/docs/?"), self.docs),
        ]

    def __call__(self, method: str, raw_path: str, headers: dict[str, str], body: bytes | None) -> Response | None:
        path = urlsplit(raw_path).path
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if method != route_method:
                return gateway_error(405, "METHOD_NOT_ALLOWED", f"Allowed: {route_method}.")
            try:
                return handler(match, body)
            except BadInput as error:
                return gateway_error(400, "BAD_REQUEST", str(error))
        return None

    # -- identity ------------------------------------------------------------------------------------------------
    def create_user(self, _: re.Match[str], body: bytes | None) -> Response:
        payload = _json_body(body)
        email_, password, group, first_name, last_name = _required(
            payload, "email", "password", "group", "firstName", "lastName"
        )
        if group not in ("beneficiary", "pro", "admin"):
            raise BadInput("group must be one of beneficiary, pro, admin.")
        cognito = self._stack.aws.client("cognito-idp")
        try:
            user_id = self._stack.create_user(email_, password, group, first_name, last_name, payload.get("phone"))
        except cognito.exceptions.UsernameExistsException:
            return gateway_error(409, "USER_EXISTS", "A user with this email exists.")
        except cognito.exceptions.InvalidPasswordException as error:
            raise BadInput(str(error)) from error
        return json_response(201, {"userId": user_id})

    def login(self, _: re.Match[str], body: bytes | None) -> Response:
        email_, password = _required(_json_body(body), "email", "password")
        token = self._stack.login(email_, password)
        if token is None:
            return gateway_error(401, "UNAUTHENTICATED", "Wrong email or password.")
        return json_response(200, {"idToken": token})

    # -- outbox --------------------------------------------------------------------------------------------------
    def outbox(self, _: re.Match[str], __: bytes | None) -> Response:
        with urlopen(f"{self._stack.aws.endpoint}/moto-api/data.json", timeout=10) as answer:  # noqa: S310 - loopback
            ses = json.load(answer).get("ses", {})
        items = [self._raw_message(m) for m in ses.get("RawMessage", [])]
        items += [self._simple_message(m) for m in ses.get("Message", [])]
        items.sort(key=lambda item: item["sentAt"])
        return json_response(200, {"items": items})

    def _seen(self, message_id: str) -> datetime:
        return self._first_seen.setdefault(message_id, datetime.now(UTC))

    def _raw_message(self, message: dict[str, Any]) -> dict[str, Any]:
        parsed = email.message_from_string(message["raw_data"], policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        text = parsed.get_body(preferencelist=("plain",))
        html = parsed.get_body(preferencelist=("html",))
        sent_at = parsedate_to_datetime(parsed["Date"]) if parsed["Date"] else self._seen(message["id"])
        return {
            "to": str(parsed["To"] or ", ".join(dict.fromkeys(message.get("destinations") or []))),
            "replyTo": str(parsed["Reply-To"]) if parsed["Reply-To"] else None,
            "subject": str(parsed["Subject"] or ""),
            "text": text.get_content() if text is not None else "",
            "html": html.get_content() if html is not None else "",
            "sentAt": sent_at.astimezone(UTC).isoformat(),
        }

    def _simple_message(self, message: dict[str, Any]) -> dict[str, Any]:
        destinations = message.get("destinations") or {}
        return {
            "to": ", ".join(destinations.get("ToAddresses", [])),
            "replyTo": ", ".join(message.get("reply_to") or []) or None,
            "subject": message.get("subject", ""),
            "text": "",
            "html": message.get("body", ""),
            "sentAt": self._seen(message["id"]).isoformat(),
        }

    # -- jobs and files ------------------------------------------------------------------------------------------
    def run_job(self, match: re.Match[str], body: bytes | None) -> Response:
        job = match.group("job")
        found = self._stack.schedule_for_job(job)
        if found is None:
            return gateway_error(404, "UNKNOWN_JOB", f"No schedule runs '{job}'.")
        schedule, function = found
        requested = _json_body(body).get("time")
        try:
            at = datetime.fromisoformat(str(requested).replace("Z", "+00:00")) if requested else datetime.now(UTC)
        except ValueError as error:
            raise BadInput("time must be an ISO 8601 instant.") from error
        if at.tzinfo is None:
            raise BadInput("time must carry an offset (e.g. 2026-11-16T02:00:00+01:00).")
        try:
            return json_response(200, function.invoke(schedule_input(schedule, at)))
        except FunctionError as error:
            if error.status is not None and error.body is not None:
                return json_response(error.status, error.body)
            return gateway_error(500, "JOB_FAILED", f"{error.type}: {error.message}")

    def file(self, match: re.Match[str], _: bytes | None) -> Response:
        s3 = self._stack.aws.client("s3")
        try:
            found = s3.get_object(Bucket=self._stack.files_bucket, Key=unquote(match.group("key")))
        except s3.exceptions.NoSuchKey:
            return gateway_error(404, "NOT_FOUND", "No such file.")
        content_type = found.get("ContentType") or "application/octet-stream"
        return {"statusCode": 200, "headers": {"Content-Type": content_type}, "body": found["Body"].read()}

    # -- documentation -------------------------------------------------------------------------------------------
    def openapi(self, _: re.Match[str], __: bytes | None) -> Response:
        if self._openapi is None:
            self._openapi = self._stack.merged_openapi()
        return json_response(200, self._openapi)

    def docs(self, _: re.Match[str], __: bytes | None) -> Response:
        return {"statusCode": 200, "headers": {"Content-Type": "text/html; charset=utf-8"}, "body": SWAGGER_PAGE}
