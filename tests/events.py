"""API Gateway (REST, v1) proxy events, as the real gateway sends them to a function."""

from __future__ import annotations

import json
from typing import Any


def api_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    body: Any = None,
    claims: dict[str, str] | None = None,
    authorizer: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """API Gateway puts every header in both `headers` and `multiValueHeaders`: so does this event."""
    all_headers = {"content-type": content_type, **(headers or {})}
    context_authorizer: dict[str, Any] | None = {"claims": claims} if claims else authorizer
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": f"/test{path}",
            "stage": "test",
            "requestId": "request-1",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": context_authorizer,
        },
        "body": body if body is None or isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


def claims_of(group: str, sub: str = "user-1") -> dict[str, str]:
    """Claims as API Gateway's Cognito authorizer passes them: every value a string."""
    return {"sub": sub, "email": f"{sub}@example.org", "cognito:groups": group, "token_use": "id"}


class FakeContext:
    function_name = "test"
    function_version = "$LATEST"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:eu-west-3:123456789012:function:test"
    aws_request_id = "request-1"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000
