"""Domain errors. Each carries the contract's error code and HTTP status (api.md, "Errors"), so a handler maps any
of them to `{"code", "message", "details"}` in one place (pass_culture.http) and a use case never speaks HTTP."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    status: ClassVar[int] = 400
    default_code: ClassVar[str] = "BAD_REQUEST"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: list[Any] | None = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details: list[Any] = details or []
        # Keys another API's clients read, beside ours: the public pass Culture API's `{"<field>": ["<message>"]}`.
        self.fields: dict[str, list[str]] = fields or {}

    def to_body(self) -> dict[str, Any]:
        return {**self.fields, "code": self.code, "message": self.message, "details": self.details}

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(DomainError):
    """The request is malformed (shape, types, bad identifiers such as an invalid SIREN or IBAN)."""

    status = 400
    default_code = "BAD_REQUEST"


class Unauthenticated(DomainError):
    status = 401
    default_code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    status = 403
    default_code = "FORBIDDEN"


class NotFound(DomainError):
    status = 404
    default_code = "NOT_FOUND"


class Conflict(DomainError):
    """The state forbids it: sold out, already booked, not enough credit, duplicate SIREN/SIRET."""

    status = 409
    default_code = "CONFLICT"


class Gone(DomainError):
    """The thing existed but is no longer usable: a used or cancelled booking."""

    status = 410
    default_code = "GONE"


class RuleRefused(DomainError):
    """Well-formed, but a business rule refuses it (ineligible book, offer not bookable, age out of range)."""

    status = 422
    default_code = "RULE_REFUSED"


class PayloadTooLarge(DomainError):
    """More than the route takes in one call (e.g. lines of a stock push)."""

    status = 413
    default_code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(DomainError):
    """The body is not in the media type the route reads (JSON unless it says otherwise)."""

    status = 415
    default_code = "UNSUPPORTED_MEDIA_TYPE"


class TooManyRequests(DomainError):
    status = 429
    default_code = "TOO_MANY_REQUESTS"

    def __init__(
        self,
        message: str,
        *,
        retry_after_seconds: int,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message, code=code, fields=fields)
        self.retry_after_seconds = retry_after_seconds

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


class Unavailable(DomainError):
    """AWS refused or did not answer in time, after botocore's retries (throttling, a timeout): nothing was written
    (a write is one request or one transaction), and the same request may be sent again shortly."""

    status = 503
    default_code = "SERVICE_UNAVAILABLE"
    RETRY_AFTER_SECONDS = 1

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.RETRY_AFTER_SECONDS)}
