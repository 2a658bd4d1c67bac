"""Lambda authorizer (REQUEST) for the countermark API and the stock push: lets in venue software holding an
offerer API key, and pros with their Cognito token. Raising "Unauthorized" is how API Gateway answers 401."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture import aws
from pass_culture.accounts.api_keys import ApiKeyRepository
from pass_culture.auth import Principal, looks_like_jwt, pro_principal, verify_id_token
from pass_culture.dynamo import Table
from pass_culture.settings import get_settings

logger = Logger()


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


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    principal = authenticate(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if principal is None:
        raise PermissionError("Unauthorized")  # API Gateway turns the authorizer's failure into 401
    return policy(principal, event["methodArn"])
