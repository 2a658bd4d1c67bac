"""Lambda authorizer (REQUEST) for the countermark API and the stock push: lets in venue software holding an
offerer API key (`Bearer <key>`), and pros with their Cognito token (`Bearer <token>`) or, as the public pass Culture
API takes them, their email and password (`Basic base64(email:password)`, checked against the user pool). Raising
"Unauthorized" is how API Gateway answers 401; API Gateway caches each answer 60 s per Authorization header."""

import base64
import binascii
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture import aws
from pass_culture.accounts.api_keys import ApiKeyRepository
from pass_culture.auth import Principal, looks_like_jwt, pro_principal, verify_id_token
from pass_culture.dynamo import Table
from pass_culture.observability import API, entry
from pass_culture.settings import get_settings, require_at_init

require_at_init("user_pool_id", "user_pool_client_id", "basic_auth_client_id")  # else the init fails (the table too)


def authenticate(token: str) -> Principal | None:
    """The principal to let in; None when the token proves nothing (401). A valid user token of another group than
    `pro` gets a principal with no rights, i.e. a deny policy (403)."""
    settings = get_settings()
    if looks_like_jwt(token):
        claims = verify_id_token(token, settings)
        if claims is None:
            return None
        return pro_principal(claims) or Principal(str(claims["sub"]), allowed=False)
    found = ApiKeyRepository(Table(aws.dynamodb(), settings.table_name)).find_active(token)
    if found is None:
        return None
    return Principal(f"apikey:{found.api_key_id}", {"offererId": found.offerer_id, "apiKeyId": found.api_key_id})


def authenticate_basic(credentials: str) -> Principal | None:
    """A pro's `email:password` (the real API's Basic auth): the user pool signs them in (USER_PASSWORD_AUTH), and
    the ID token it answers is checked as a Bearer token would be. Wrong credentials: None (401)."""
    try:
        email, separator, password = base64.b64decode(credentials, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    # Cognito refuses a username past 128 characters or a password past 256 with InvalidParameterException: not a
    # sign-in to attempt, and never the 503 an authorizer's failure is
    if not separator or not 0 < len(email) <= 128 or not 0 < len(password) <= 256:
        return None
    cognito = aws.client("cognito-idp")
    try:
        answer = cognito.initiate_auth(
            ClientId=get_settings().basic_auth_client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )  # fmt: skip
    except (
        cognito.exceptions.NotAuthorizedException,
        cognito.exceptions.UserNotFoundException,
        cognito.exceptions.InvalidParameterException,  # a malformed username: nobody signs in with it
    ):
        return None
    token = (answer.get("AuthenticationResult") or {}).get("IdToken")
    if not token:  # a challenge (new password required…): not signed in
        return None
    claims = verify_id_token(str(token), get_settings(), audience=get_settings().basic_auth_client_id)
    if claims is None:
        return None
    return pro_principal(claims) or Principal(str(claims["sub"]), allowed=False)


def policy(principal: Principal, method_arn: str) -> dict[str, Any]:
    # Allow the whole stage: API Gateway caches the answer per token for every route this authorizer guards.
    api_arn, stage = method_arn.split("/")[0], method_arn.split("/")[1]
    effect = "Allow" if principal.allowed else "Deny"
    return {
        "principalId": principal.principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": f"{api_arn}/{stage}/*"}],
        },
        "context": principal.context,
    }


@entry(API)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    principal = None
    if scheme.lower() == "bearer" and token.strip():
        principal = authenticate(token.strip())
    elif scheme.lower() == "basic" and token.strip():
        principal = authenticate_basic(token.strip())
    if principal is None:
        raise PermissionError("Unauthorized")  # API Gateway turns the authorizer's failure into 401
    return policy(principal, event["methodArn"])
