"""The project's Lambda authorizer: offerer API keys by hash, pro tokens verified against the user pool's JWKS."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import boto3
import pytest
from moto.utilities.utils import load_resource

from pass_culture import dynamo
from pass_culture.accounts.api_keys import api_key_key, hash_api_key
from pass_culture.settings import get_settings
from tests.events import FakeContext

METHOD_ARN = "arn:aws:execute-api:eu-west-3:123456789012:abc123/prod/PATCH/v2/bookings/use/token/ABCDEF"


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    """The user pool's public keys served over HTTP on loopback, as Cognito serves them."""
    body = json.dumps(load_resource("cognitoidp/resources/jwks-public.json")).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()


@pytest.fixture
def authorizer(moto_stack: Any, monkeypatch: pytest.MonkeyPatch, jwks_url: str) -> Iterator[Any]:
    monkeypatch.setenv("TABLE_NAME", moto_stack.ref("Table"))
    monkeypatch.setenv("USER_POOL_ID", moto_stack.ref("UserPool"))
    monkeypatch.setenv("USER_POOL_CLIENT_ID", moto_stack.ref("UserPoolClient"))
    monkeypatch.setenv("BASIC_AUTH_CLIENT_ID", moto_stack.ref("CounterBasicAuthClient"))
    monkeypatch.setenv("COGNITO_JWKS_URL", jwks_url)
    get_settings.cache_clear()
    from functions.api_key_authorizer import app

    yield app
    get_settings.cache_clear()


def token_of(moto_stack: Any, email: str, group: str) -> str:
    cognito = boto3.client("cognito-idp", region_name="eu-west-3")
    pool = moto_stack.ref("UserPool")
    cognito.admin_create_user(UserPoolId=pool, Username=email, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password="Culture-Locale-2026", Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)
    answer = cognito.initiate_auth(
        ClientId=moto_stack.ref("UserPoolClient"),
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": "Culture-Locale-2026"},
    )
    return str(answer["AuthenticationResult"]["IdToken"])


def authorize(app: Any, authorization: str | None) -> dict[str, Any]:
    headers = {"Authorization": authorization} if authorization else {}
    result: dict[str, Any] = app.lambda_handler(
        {"type": "REQUEST", "methodArn": METHOD_ARN, "headers": headers}, FakeContext()
    )
    return result


def store_key(moto_stack: Any, api_key: str, *, revoked: bool = False) -> None:
    table = dynamo.Table(boto3.client("dynamodb", region_name="eu-west-3"), moto_stack.ref("Table"))
    item = {**api_key_key(hash_api_key(api_key)), "apiKeyId": "k1", "offererId": "offerer-1"}
    table.put({**item, "revokedAt": "2026-11-01T00:00:00Z"} if revoked else item)


def test_an_active_api_key_lets_venue_software_in_with_its_offerer_only(authorizer: Any, moto_stack: Any) -> None:
    store_key(moto_stack, "pk_live_secret")
    policy = authorize(authorizer, "Bearer pk_live_secret")
    assert policy["context"] == {"offererId": "offerer-1", "apiKeyId": "k1"}
    statement = policy["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == "arn:aws:execute-api:eu-west-3:123456789012:abc123/prod/*"


@pytest.mark.parametrize("authorization", [None, "Bearer ", "Basic pk_live_secret", "Bearer unknown-key", "Digest x"])
def test_missing_or_unknown_credentials_are_unauthorized(authorizer: Any, moto_stack: Any, authorization: str) -> None:
    store_key(moto_stack, "pk_live_secret")
    with pytest.raises(PermissionError, match="Unauthorized"):
        authorize(authorizer, authorization)


def test_a_revoked_key_is_unauthorized(authorizer: Any, moto_stack: Any) -> None:
    store_key(moto_stack, "pk_live_revoked", revoked=True)
    with pytest.raises(PermissionError):
        authorize(authorizer, "Bearer pk_live_revoked")


def test_keys_are_stored_hashed_never_in_clear(moto_stack: Any) -> None:
    store_key(moto_stack, "pk_live_secret")
    raw = boto3.client("dynamodb", region_name="eu-west-3").get_item(
        TableName=moto_stack.ref("Table"), Key=dynamo.serialize(api_key_key(hash_api_key("pk_live_secret")))
    )
    assert "pk_live_secret" not in json.dumps(raw["Item"])


def test_a_pros_token_is_let_in_and_another_groups_token_denied(authorizer: Any, moto_stack: Any) -> None:
    pro = authorize(authorizer, f"Bearer {token_of(moto_stack, 'pro@example.org', 'pro')}")
    assert pro["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert pro["context"]["groups"] == "pro" and pro["context"]["email"] == "pro@example.org"
    young = authorize(authorizer, f"Bearer {token_of(moto_stack, 'young@example.org', 'beneficiary')}")
    assert young["policyDocument"]["Statement"][0]["Effect"] == "Deny"


def test_a_tampered_token_is_unauthorized(authorizer: Any, moto_stack: Any) -> None:
    header, payload, signature = token_of(moto_stack, "pro@example.org", "pro").split(".")
    forged_signature = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(PermissionError):
        authorize(authorizer, f"Bearer {header}.{payload}.{forged_signature}")


def basic(email: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()


def test_a_pro_signs_in_with_email_and_password_as_the_real_api_takes_them(authorizer: Any, moto_stack: Any) -> None:
    token_of(moto_stack, "libraire@example.org", "pro")  # creates the pro, password Culture-Locale-2026
    policy = authorize(authorizer, basic("libraire@example.org", "Culture-Locale-2026"))
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert policy["context"]["groups"] == "pro" and policy["context"]["email"] == "libraire@example.org"
    token_of(moto_stack, "jeune@example.org", "beneficiary")
    young = authorize(authorizer, basic("jeune@example.org", "Culture-Locale-2026"))
    assert young["policyDocument"]["Statement"][0]["Effect"] == "Deny"  # signed in, but not a pro: 403


@pytest.mark.parametrize(
    "credentials",
    [("libraire@example.org", "wrong-password"), ("nobody@example.org", "Culture-Locale-2026"),
     ("libraire@example.org", ""), ("", "Culture-Locale-2026"),
     ("x" * 120 + "@example.org", "Culture-Locale-2026"), ("libraire@example.org", "p" * 257)],
)  # fmt: skip
def test_wrong_basic_credentials_are_unauthorized(
    authorizer: Any, moto_stack: Any, credentials: tuple[str, str]
) -> None:
    token_of(moto_stack, "libraire@example.org", "pro")
    with pytest.raises(PermissionError, match="Unauthorized"):
        authorize(authorizer, basic(*credentials))
    with pytest.raises(PermissionError, match="Unauthorized"):
        authorize(authorizer, "Basic not-base64!")


def test_a_username_cognito_refuses_as_malformed_is_unauthorized_not_an_authorizer_failure(
    authorizer: Any, moto_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS's Cognito answers InvalidParameterException for a username it cannot take (moto does not check): a 401,
    since any other failure of the authorizer is API Gateway's 503 AUTHORIZER_FAILURE."""
    from pass_culture import aws

    cognito = aws.client("cognito-idp")

    def invalid(**_: Any) -> Any:
        raise cognito.exceptions.InvalidParameterException(
            {"Error": {"Code": "InvalidParameterException", "Message": "1 validation error detected"}}, "InitiateAuth"
        )

    monkeypatch.setattr(cognito, "initiate_auth", invalid)
    with pytest.raises(PermissionError, match="Unauthorized"):
        authorize(authorizer, basic("a\tb@example.org", "Culture-Locale-2026"))
