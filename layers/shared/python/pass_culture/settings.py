"""Configuration from environment variables, validated once per process (cold start).

Every function reads the same names; the template (template.yaml, Globals and each function's Environment) is where
their values are set in AWS, and infra/local sets the same names for the local stack.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class SettingsError(RuntimeError):
    """A required environment variable is missing or malformed: the function cannot start."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    table_name: str = Field(alias="TABLE_NAME", min_length=3)
    stage: str = Field(default="dev", alias="STAGE")
    files_bucket: str = Field(default="", alias="FILES_BUCKET")
    images_base_url: str = Field(default="", alias="IMAGES_BASE_URL")  # CloudFront's, for offers' imageUrl
    sender_email: str = Field(default="", alias="SENDER_EMAIL")
    stock_import_queue_url: str = Field(default="", alias="STOCK_IMPORT_QUEUE_URL")
    daily_jobs_queue_url: str = Field(default="", alias="DAILY_JOBS_QUEUE_URL")
    payouts_queue_url: str = Field(default="", alias="PAYOUTS_QUEUE_URL")
    notifications_dlq_url: str = Field(default="", alias="NOTIFICATIONS_DLQ_URL")
    # Who pays the venues (the SEPA file's debtor): the pass Culture's account, from the deployment's parameters.
    payouts_debtor_name: str = Field(default="pass Culture", alias="PAYOUTS_DEBTOR_NAME")
    payouts_debtor_iban: str = Field(default="", alias="PAYOUTS_DEBTOR_IBAN")
    payouts_debtor_bic: str = Field(default="", alias="PAYOUTS_DEBTOR_BIC")
    user_pool_id: str = Field(default="", alias="USER_POOL_ID")
    user_pool_client_id: str = Field(default="", alias="USER_POOL_CLIENT_ID")
    # The app client with USER_PASSWORD_AUTH, for the countermark API's Basic auth only (the portal's client has SRP)
    basic_auth_client_id: str = Field(default="", alias="BASIC_AUTH_CLIENT_ID")
    # Set only outside AWS (local stack, tests): where the user pool's public keys are served.
    jwks_url: str = Field(default="", alias="COGNITO_JWKS_URL")
    aws_region: str = Field(default="eu-west-3", alias="AWS_REGION")
    # Set only outside AWS: every boto3 client talks to this endpoint (moto's server).
    aws_endpoint_url: str | None = Field(default=None, alias="AWS_ENDPOINT_URL")
    # Set only by the local stack: a stock provider may then be served over http on loopback (the fake provider).
    # In AWS a provider's base URL is https, never a loopback or private address.
    allow_loopback_providers: bool = Field(default=False, alias="ALLOW_LOOPBACK_PROVIDERS")
    # The pro portal's origin (template Globals): the links emails carry (an invitation's) point there.
    portal_origin: str = Field(default="", alias="PORTAL_ORIGIN")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        source = os.environ if environ is None else environ
        try:
            return cls.model_validate(dict(source))
        except ValidationError as error:
            names = ", ".join(str(e["loc"][0]) for e in error.errors())
            raise SettingsError(f"invalid or missing environment variables: {names}") from error


def require_at_init(*fields: str) -> None:
    """Called by a function's module at import, in a Lambda execution environment (AWS's, or the local runtime's, both
    set AWS_LAMBDA_FUNCTION_NAME): a missing or empty variable the function cannot work without fails its init,
    visibly at deploy time, rather than its first request. Tests and tools that import the module set what they use."""
    if "AWS_LAMBDA_FUNCTION_NAME" not in os.environ:
        return
    settings = get_settings()
    missing = [Settings.model_fields[name].alias or name for name in fields if not getattr(settings, name)]
    if missing:
        raise SettingsError(f"missing environment variables: {', '.join(missing)}")


@cache
def get_settings() -> Settings:
    """The process-wide settings (read on first use, then kept for the life of the Lambda instance)."""
    return Settings.from_env()


# -- the domain's limits against abuse (domain.md "The counter"; issue 9): each figure lives here, once ---------------
# Failed countermark look-ups (unknown token, another offerer's token): at most MAX_FAILED_LOOKUPS in any
# FAILED_LOOKUPS_WINDOW_SECONDS, counted per offerer (all its API keys and pros). The window slides in steps of
# FAILED_LOOKUPS_SLOT_SECONDS: once blocked, a caller waits between 60 and 66 s after the failures that blocked it.
MAX_FAILED_LOOKUPS = 10
FAILED_LOOKUPS_WINDOW_SECONDS = 60
FAILED_LOOKUPS_SLOT_SECONDS = 6
# Active (not revoked) API keys an offerer may hold at once; past it, creating one is a 409 until one is revoked.
MAX_ACTIVE_API_KEYS_PER_OFFERER = 10
# Collaborators (domain.md): an invitation to join an offerer can be accepted for this long after it is sent.
INVITATION_VALIDITY_DAYS = 7
