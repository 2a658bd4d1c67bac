"""The pro portal's static files (portal/), served by the local gateway under /pro/ as CloudFront serves them from
the portal bucket in AWS, and its config.json, which `make deploy-portal` writes from the stack's outputs in AWS
(infra/ops/deploy_portal.py) and which is built here from the local stack.

Only files that exist are answered: every other /pro/… path (the API's /pro/bookings, /pro/reimbursements) goes on
to the API, so the portal never shadows a route."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from infra.local.gateway import Response

PORTAL_DIR = Path(__file__).resolve().parents[2] / "portal"
PREFIX = "/pro/"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
}
# What CloudFront's response headers policy adds in AWS (SecurityHeadersPolicy), and a content security policy that
# keeps the portal's own code the only code that runs.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "SAMEORIGIN",
}


def portal_config(api_url: str, cognito_endpoint: str, user_pool_id: str, client_id: str) -> dict[str, Any]:
    """config.json: where the portal finds the API and Cognito (the same keys in AWS and locally)."""
    return {
        "apiUrl": api_url,
        "cognitoEndpoint": cognito_endpoint,
        "userPoolId": user_pool_id,
        "clientId": client_id,
        "region": user_pool_id.split("_", 1)[0],
    }


class PortalFiles:
    def __init__(self, config: Callable[[], dict[str, Any]], root: Path = PORTAL_DIR) -> None:
        self._config = config
        self._root = root.resolve()

    def __call__(self, method: str, raw_path: str, headers: dict[str, str], body: bytes | None) -> Response | None:
        path = unquote(urlsplit(raw_path).path)
        if method not in ("GET", "HEAD") or not (path == "/pro" or path.startswith(PREFIX)):
            return None
        if path == "/pro":
            return {"statusCode": 301, "headers": {"Location": PREFIX}, "body": ""}
        relative = path[len(PREFIX) :] or "index.html"
        if relative == "config.json":
            return self._answer(json.dumps(self._config()).encode(), ".json", cache="no-store")
        file = (self._root / relative).resolve()
        if not file.is_file() or self._root not in file.parents:
            return None  # not a portal file: maybe an API route (/pro/bookings)
        # the files change with every deploy: revalidated each time (CloudFront's invalidation does it in AWS)
        return self._answer(file.read_bytes(), file.suffix, cache="no-cache")

    @staticmethod
    def _answer(content: bytes, suffix: str, cache: str) -> Response:
        content_type = TYPES.get(suffix) or mimetypes.guess_type(f"x{suffix}")[0] or "application/octet-stream"
        headers = {"Content-Type": content_type, "Cache-Control": cache, **SECURITY_HEADERS}
        return {"statusCode": 200, "headers": headers, "body": content}


LocalHandler = Callable[[str, str, dict[str, str], bytes | None], Response | None]


def chained(*handlers: LocalHandler) -> LocalHandler:
    """The first handler that answers."""

    def handle(method: str, raw_path: str, headers: dict[str, str], body: bytes | None) -> Response | None:
        for handler in handlers:
            answer = handler(method, raw_path, headers, body)
            if answer is not None:
                return answer
        return None

    return handle
