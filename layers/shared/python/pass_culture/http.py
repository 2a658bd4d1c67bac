"""What every API handler shares: the Powertools resolver with the contract's error answers, and the caller's
identity as API Gateway's authorizers hand it over (Cognito claims, or the project's API-key authorizer context).

Handlers stay thin: parse (Powertools validation), identify (`caller`), call one use case, answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from pass_culture.errors import DomainError, Forbidden, Unauthenticated
from pass_culture.identity import parse_groups

logger = Logger()

GROUPS = ("beneficiary", "pro", "admin")


def error_response(status: int, code: str, message: str, details: list[Any] | None = None) -> Response[str]:
    body = json.dumps({"code": code, "message": message, "details": details or []}, ensure_ascii=False)
    return Response(status_code=status, content_type="application/json", body=body)


def build_resolver() -> APIGatewayRestResolver:
    """A REST resolver with request validation and every failure mapped to `{"code", "message", "details"}`."""
    app = APIGatewayRestResolver(enable_validation=True)

    @app.exception_handler(DomainError)  # type: ignore[untyped-decorator]
    def _domain_error(error: DomainError) -> Response[str]:
        response = error_response(error.status, error.code, error.message, error.details)
        response.headers.update(error.headers())
        return response

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def _validation_error(error: RequestValidationError) -> Response[str]:
        details = [
            {"field": ".".join(str(part) for part in e.get("loc", ()) if part != "body"), "problem": e.get("msg", "")}
            for e in error.errors()
        ]
        fields = ", ".join(d["field"] or "body" for d in details)
        return error_response(400, "BAD_REQUEST", f"Invalid request: {fields}.", details)

    @app.not_found
    def _not_found(_: NotFoundError) -> Response[str]:
        return error_response(404, "NOT_FOUND", "No such route.")

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _unexpected(error: Exception) -> Response[str]:
        # A bug, whatever the input: logged with its traceback, answered without it.
        logger.exception("unexpected error")
        return error_response(500, "INTERNAL_ERROR", "An unexpected error occurred.")

    return app


@dataclass(frozen=True)
class Caller:
    """Who is calling: a Cognito user (with groups) or venue software holding an offerer API key."""

    user_id: str | None
    email: str | None
    groups: frozenset[str]
    api_key_offerer_id: str | None = None
    api_key_id: str | None = None

    @property
    def principal(self) -> str:
        """Who acts, as recorded (validation author) and rate-limited: `API_KEY:<id>` or `PRO:<sub>`."""
        return f"API_KEY:{self.api_key_id}" if self.api_key_offerer_id else f"PRO:{self.user_id}"

    def require(self, *groups: str) -> Caller:
        if not self.groups.intersection(groups):
            raise Forbidden("This route is not open to your account.", code="FORBIDDEN_GROUP")
        return self

    def require_pro_or_api_key(self) -> Caller:
        """The countermark API and the stock push: a pro's token, or venue software holding an offerer API key."""
        if self.api_key_offerer_id is not None:
            return self
        return self.require("pro")


def caller_of(app: APIGatewayRestResolver) -> Caller:
    """The authenticated caller of the current request; 401 when API Gateway passed no identity."""
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
    raise Unauthenticated("Authentication required.")
