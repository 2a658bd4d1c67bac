"""Authentication for the project's Lambda authorizer: a pro's Cognito ID token, or an offerer API key.

Cognito tokens are verified like API Gateway's Cognito authorizer does it: RS256 signature against the user pool's
JWKS, issuer, audience (the app client), `token_use` = id, expiry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from pass_culture.identity import parse_groups
from pass_culture.settings import Settings

if TYPE_CHECKING:
    import jwt


@dataclass(frozen=True)
class Principal:
    """Who the authorizer lets in, and the context it hands to the function (flat strings, as API Gateway wants)."""

    principal_id: str
    context: dict[str, str] = field(default_factory=dict)
    allowed: bool = True


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def issuer(settings: Settings) -> str:
    return f"https://cognito-idp.{settings.aws_region}.amazonaws.com/{settings.user_pool_id}"


def jwks_url(settings: Settings) -> str:
    return settings.jwks_url or f"{issuer(settings)}/.well-known/jwks.json"


@cache
def _jwks_client(url: str) -> jwt.PyJWKClient:
    import jwt

    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)


def verify_id_token(token: str, settings: Settings, audience: str | None = None) -> dict[str, Any] | None:
    """The token's claims when it is a valid ID token of the user pool for `audience` (the app client it was issued
    to: the portal's unless said otherwise), else None."""
    import jwt

    try:
        signing_key = _jwks_client(jwks_url(settings)).get_signing_key_from_jwt(token)
        claims: dict[str, Any] = jwt.decode(
            token,
            signing_key.key,
            algorithms=["RS256"],
            audience=audience or settings.user_pool_client_id,
            issuer=issuer(settings),
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError:
        return None
    return claims if claims.get("token_use") == "id" else None


def pro_principal(claims: dict[str, Any]) -> Principal | None:
    groups = parse_groups(claims.get("cognito:groups"))
    if "pro" not in groups:
        return None
    return Principal(
        principal_id=str(claims["sub"]),
        context={"sub": str(claims["sub"]), "email": str(claims.get("email", "")), "groups": ",".join(sorted(groups))},
    )
