"""The local Cognito front (`/_local/cognito`, infra/local/cognito.py) as AWS clients speak to Cognito: boto3 for the
public actions, pycognito's `AWSSRP` for the SRP sign-in (a client written for the real Cognito: if it signs in,
the server speaks Cognito's SRP), and the portal's own ES modules (portal/js/cognito.js, srp.js) run by node.

Codes come from the outbox (`GET /_local/outbox`), group membership from the embedded AWS."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from pycognito.aws_srp import AWSSRP  # type: ignore[import-untyped]

from infra.local.cognito import LocalCognito
from infra.local.outbox import parse
from infra.local.runtime import FunctionError, FunctionTimeout
from infra.local.template import load_template
from tests.e2e.conftest import RunningStack

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Culture-Locale-2026"
NEW_PASSWORD = "Nouveau-Secret-2027"
SIGN_UP_SUBJECT = "pass Culture pro : votre code de confirmation"
RESET_SUBJECT = "pass Culture pro : réinitialiser votre mot de passe"
TARGET = "AWSCognitoIdentityProviderService."


@cache
def ids(stack_url: str, aws_endpoint: str) -> tuple[str, str]:
    """The user pool and the portal's app client, as the embedded AWS holds them."""
    cognito = boto3.client(
        "cognito-idp", endpoint_url=aws_endpoint, region_name="eu-west-3",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    pool_id = str(cognito.list_user_pools(MaxResults=5)["UserPools"][0]["Id"])
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=10)["UserPoolClients"]
    client_id = next(c["ClientId"] for c in clients if c["ClientName"].endswith("-UserPoolClient"))
    return pool_id, str(client_id)


def pool_and_client(stack: RunningStack) -> tuple[str, str]:
    return ids(stack.url, stack.aws_endpoint)


def idp(stack: RunningStack) -> Any:
    """A boto3 Cognito client on the local front, unsigned as a browser's calls are."""
    return boto3.client(
        "cognito-idp",
        endpoint_url=f"{stack.url}/_local/cognito",
        region_name="eu-west-3",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def new_email() -> str:
    return f"pro-{uuid.uuid4().hex[:10]}@example.org"


def code_from_outbox(stack: RunningStack, email: str, subject: str, count: int = 1) -> str:
    """The code of the newest email with that subject to that address (there must be `count` of them)."""
    items = requests.get(f"{stack.url}/_local/outbox", params={"to": email}, timeout=10).json()["items"]
    found = [item for item in items if item["subject"] == subject]
    assert len(found) == count, items
    match = re.search(r"\b(\d{6})\b", found[-1]["text"])
    assert match, found[-1]
    return match.group(1)


def sign_up(stack: RunningStack, email: str, password: str = PASSWORD) -> dict[str, Any]:
    _, client_id = pool_and_client(stack)
    attributes = [{"Name": "email", "Value": email}, {"Name": "given_name", "Value": "Aurore"},
                  {"Name": "family_name", "Value": "Durand"}]  # fmt: skip
    answer: dict[str, Any] = idp(stack).sign_up(
        ClientId=client_id, Username=email, Password=password, UserAttributes=attributes
    )
    return answer


def confirmed_pro(stack: RunningStack, password: str = PASSWORD) -> tuple[str, str]:
    """A person who signed up and confirmed with the emailed code: their email and sub."""
    email = new_email()
    sub = str(sign_up(stack, email, password)["UserSub"])
    _, client_id = pool_and_client(stack)
    code = code_from_outbox(stack, email, SIGN_UP_SUBJECT)
    idp(stack).confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode=code)
    return email, sub


def srp_sign_in(stack: RunningStack, email: str, password: str) -> dict[str, Any]:
    pool_id, client_id = pool_and_client(stack)
    srp = AWSSRP(username=email, password=password, pool_id=pool_id, client_id=client_id, client=idp(stack))
    tokens: dict[str, Any] = srp.authenticate_user()
    return tokens


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    loaded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return loaded


def raw_call(stack: RunningStack, action: str | None, body: bytes | str, path: str = "/_local/cognito") -> Any:
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    if action is not None:
        headers["X-Amz-Target"] = TARGET + action
    return requests.post(f"{stack.url}{path}", data=body, headers=headers, timeout=10)


# -- (a) sign-up, confirmation, SRP sign-in ------------------------------------------------------------------------
def test_a_pro_signs_up_confirms_with_the_emailed_code_and_signs_in_with_srp(stack: RunningStack) -> None:
    pool_id, client_id = pool_and_client(stack)
    cognito = idp(stack)
    email = new_email()

    answer = sign_up(stack, email)
    assert answer["UserConfirmed"] is False
    assert answer["CodeDeliveryDetails"] == {"Destination": "p***@e***", "DeliveryMedium": "EMAIL",
                                             "AttributeName": "email"}  # fmt: skip
    sub = answer["UserSub"]
    code = code_from_outbox(stack, email, SIGN_UP_SUBJECT)
    items = requests.get(f"{stack.url}/_local/outbox", params={"to": email}, timeout=10).json()["items"]
    expected_text = (
        "Bonjour, votre code de confirmation pour l'espace pass Culture pro est {####}. Il est valable 24 heures."
    )
    assert items[-1]["text"].strip() == expected_text.replace("{####}", code)

    with pytest.raises(ClientError) as unconfirmed:  # the right password, not confirmed yet
        srp_sign_in(stack, email, PASSWORD)
    assert error_code(unconfirmed) == "UserNotConfirmedException"

    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(ClientError) as mismatch:
        cognito.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode=wrong)
    assert error_code(mismatch) == "CodeMismatchException"
    assert mismatch.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    cognito.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode=code)

    with pytest.raises(ClientError) as again:
        cognito.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode=code)
    assert error_code(again) == "NotAuthorizedException"
    admin = stack.aws_client("cognito-idp")
    groups = admin.admin_list_groups_for_user(UserPoolId=pool_id, Username=sub)["Groups"]
    assert [group["GroupName"] for group in groups] == ["pro"]  # the PostConfirmation trigger ran
    user = admin.admin_get_user(UserPoolId=pool_id, Username=sub)
    assert user["UserStatus"] == "CONFIRMED"
    assert {"Name": "email_verified", "Value": "true"} in user["UserAttributes"]

    tokens = srp_sign_in(stack, email.upper(), PASSWORD)["AuthenticationResult"]  # user names ignore case here
    assert tokens["TokenType"] == "Bearer" and tokens["ExpiresIn"] > 0 and tokens["RefreshToken"]
    id_claims = claims(tokens["IdToken"])
    assert id_claims["aud"] == client_id and id_claims["sub"] == sub and id_claims["email"] == email
    assert id_claims["cognito:groups"] == ["pro"]
    offerers = requests.get(
        f"{stack.url}/offerers", headers={"Authorization": f"Bearer {tokens['IdToken']}"}, timeout=10
    )
    assert offerers.status_code == 200, offerers.text
    assert offerers.json() == {"items": []}

    refreshed = cognito.initiate_auth(
        ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]}
    )["AuthenticationResult"]
    assert claims(refreshed["IdToken"])["sub"] == sub and "RefreshToken" not in refreshed
    cognito.global_sign_out(AccessToken=tokens["AccessToken"])
    with pytest.raises(ClientError) as revoked:
        cognito.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                              AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})  # fmt: skip
    assert error_code(revoked) == "NotAuthorizedException"


def test_sign_in_refusals_are_cognitos(stack: RunningStack) -> None:
    email, _ = confirmed_pro(stack)
    _, client_id = pool_and_client(stack)

    with pytest.raises(ClientError) as wrong_password:
        srp_sign_in(stack, email, PASSWORD + "x")
    assert error_code(wrong_password) == "NotAuthorizedException"
    assert wrong_password.value.response["Error"]["Message"] == "Incorrect username or password."

    with pytest.raises(ClientError) as unknown:  # PreventUserExistenceErrors: never UserNotFoundException
        srp_sign_in(stack, new_email(), PASSWORD)
    assert error_code(unknown) == "NotAuthorizedException"

    with pytest.raises(ClientError) as password_flow:  # the portal's client allows SRP and refresh only
        idp(stack).initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD})  # fmt: skip
    assert error_code(password_flow) == "InvalidParameterException"
    assert password_flow.value.response["Error"]["Message"] == "USER_PASSWORD_AUTH flow not enabled for this client"


def test_a_replayed_or_forged_password_claim_is_refused(stack: RunningStack) -> None:
    email, _ = confirmed_pro(stack)
    pool_id, client_id = pool_and_client(stack)
    cognito = idp(stack)
    srp = AWSSRP(username=email, password=PASSWORD, pool_id=pool_id, client_id=client_id, client=cognito)
    parameters = srp.get_auth_params()
    started = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_SRP_AUTH", AuthParameters=parameters)
    assert started["ChallengeName"] == "PASSWORD_VERIFIER"
    assert set(started["ChallengeParameters"]) == {"SALT", "SRP_B", "SECRET_BLOCK", "USER_ID_FOR_SRP", "USERNAME"}
    responses = srp.process_challenge(started["ChallengeParameters"], parameters)
    forged = {**responses, "TIMESTAMP": responses["TIMESTAMP"].replace("UTC", "UTC ", 1)}  # signed text changed
    with pytest.raises(ClientError) as refused:
        cognito.respond_to_auth_challenge(ClientId=client_id, ChallengeName="PASSWORD_VERIFIER",
                                          ChallengeResponses=forged)  # fmt: skip
    assert error_code(refused) in ("NotAuthorizedException", "InvalidParameterException")
    with pytest.raises(ClientError) as replayed:  # a challenge is answered once, even rightly afterwards
        cognito.respond_to_auth_challenge(ClientId=client_id, ChallengeName="PASSWORD_VERIFIER",
                                          ChallengeResponses=responses)  # fmt: skip
    assert error_code(replayed) == "NotAuthorizedException"


def test_signing_up_twice_or_with_a_weak_password_is_refused(stack: RunningStack) -> None:
    email = new_email()
    sign_up(stack, email)
    with pytest.raises(ClientError) as exists:
        sign_up(stack, email.upper())
    assert error_code(exists) == "UsernameExistsException"
    with pytest.raises(ClientError) as weak:
        sign_up(stack, new_email(), "court1A")
    assert error_code(weak) == "InvalidPasswordException"
    assert weak.value.response["Error"]["Message"] == "Password did not conform with policy: Password not long enough"


# -- (b) forgotten password ----------------------------------------------------------------------------------------
def test_a_pro_resets_a_forgotten_password_with_the_emailed_code(stack: RunningStack) -> None:
    email, sub = confirmed_pro(stack)
    pool_id, client_id = pool_and_client(stack)
    cognito = idp(stack)

    sent = cognito.forgot_password(ClientId=client_id, Username=email)
    assert sent["CodeDeliveryDetails"]["Destination"] == "p***@e***"
    code = code_from_outbox(stack, email, RESET_SUBJECT)
    with pytest.raises(ClientError) as weak:
        cognito.confirm_forgot_password(ClientId=client_id, Username=email, ConfirmationCode=code, Password="faible")
    assert error_code(weak) == "InvalidPasswordException"
    cognito.confirm_forgot_password(ClientId=client_id, Username=email, ConfirmationCode=code, Password=NEW_PASSWORD)

    assert srp_sign_in(stack, email, NEW_PASSWORD)["AuthenticationResult"]["IdToken"]
    with pytest.raises(ClientError) as old:
        srp_sign_in(stack, email, PASSWORD)
    assert error_code(old) == "NotAuthorizedException"
    with pytest.raises(ClientError) as used:  # the code was used up
        cognito.confirm_forgot_password(ClientId=client_id, Username=email, ConfirmationCode=code, Password=PASSWORD)
    assert error_code(used) == "ExpiredCodeException"
    groups = stack.aws_client("cognito-idp").admin_list_groups_for_user(UserPoolId=pool_id, Username=sub)["Groups"]
    assert [group["GroupName"] for group in groups] == ["pro"]  # the trigger ran again and changed nothing


def test_a_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(stack: RunningStack) -> None:
    _, client_id = pool_and_client(stack)
    email = new_email()
    sent = idp(stack).forgot_password(ClientId=client_id, Username=email)
    assert sent["CodeDeliveryDetails"] == {"Destination": "p***@e***", "DeliveryMedium": "EMAIL",
                                           "AttributeName": "email"}  # fmt: skip
    assert requests.get(f"{stack.url}/_local/outbox", params={"to": email}, timeout=10).json()["items"] == []
    with pytest.raises(ClientError) as confirm:
        idp(stack).confirm_forgot_password(ClientId=client_id, Username=email, ConfirmationCode="123456",
                                           Password=NEW_PASSWORD)  # fmt: skip
    assert error_code(confirm) == "CodeMismatchException"


# -- (c) attempts ----------------------------------------------------------------------------------------------------
def test_six_wrong_codes_void_the_code_until_a_new_one_is_sent(stack: RunningStack) -> None:
    _, client_id = pool_and_client(stack)
    cognito = idp(stack)
    email = new_email()
    sign_up(stack, email)
    code = code_from_outbox(stack, email, SIGN_UP_SUBJECT)
    wrong = "000000" if code != "000000" else "111111"
    answers = []
    for _ in range(6):
        with pytest.raises(ClientError) as refused:
            cognito.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode=wrong)
        answers.append(error_code(refused))
    assert answers == ["CodeMismatchException"] * 5 + ["LimitExceededException"]
    with pytest.raises(ClientError) as void:
        cognito.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode=code)
    assert error_code(void) == "LimitExceededException"

    assert cognito.resend_confirmation_code(ClientId=client_id, Username=email)["CodeDeliveryDetails"]
    fresh = code_from_outbox(stack, email, SIGN_UP_SUBJECT, count=2)
    cognito.confirm_sign_up(ClientId=client_id, Username=email, ConfirmationCode=fresh)
    assert srp_sign_in(stack, email, PASSWORD)["AuthenticationResult"]["IdToken"]


# -- (d) the wire ----------------------------------------------------------------------------------------------------
def test_bad_requests_are_answered_400_in_cognitos_shape(stack: RunningStack) -> None:
    _, client_id = pool_and_client(stack)
    cases: list[tuple[str | None, bytes | str, str]] = [
        ("SignUp", b"{not json", "SerializationException"),
        ("SignUp", b"[1, 2]", "SerializationException"),
        ("SignUp", b"\xff\xfe", "SerializationException"),
        ("SignUp", "{}", "InvalidParameterException"),
        ("SignUp", json.dumps({"ClientId": client_id}), "InvalidParameterException"),
        ("SignUp", json.dumps({"ClientId": 42, "Username": "a@b.c", "Password": PASSWORD}), "SerializationException"),
        (
            "SignUp",
            json.dumps({"ClientId": client_id, "Username": "a@b.c", "Password": PASSWORD, "UserAttributes": "email"}),
            "SerializationException",
        ),
        (
            "SignUp",
            json.dumps({"ClientId": "nope", "Username": "a@b.c", "Password": PASSWORD}),
            "ResourceNotFoundException",
        ),
        ("ConfirmSignUp", json.dumps({"ClientId": client_id, "Username": "a@b.c"}), "InvalidParameterException"),
        ("InitiateAuth", json.dumps({"ClientId": client_id, "AuthFlow": "NOPE"}), "InvalidParameterException"),
        (
            "InitiateAuth",
            json.dumps(
                {
                    "ClientId": client_id,
                    "AuthFlow": "USER_SRP_AUTH",
                    "AuthParameters": {"USERNAME": "a@b.c", "SRP_A": "zz"},
                }
            ),
            "InvalidParameterException",
        ),
        (
            "InitiateAuth",
            json.dumps(
                {
                    "ClientId": client_id,
                    "AuthFlow": "USER_SRP_AUTH",
                    "AuthParameters": {"USERNAME": "a@b.c", "SRP_A": "0"},
                }
            ),
            "InvalidParameterException",
        ),
        (
            "InitiateAuth",
            json.dumps({"ClientId": client_id, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH"}),
            "InvalidParameterException",
        ),
        (
            "InitiateAuth",
            json.dumps({"ClientId": client_id, "AuthFlow": "USER_SRP_AUTH", "AuthParameters": [1]}),
            "SerializationException",
        ),
        (
            "RespondToAuthChallenge",
            json.dumps(
                {
                    "ClientId": client_id,
                    "ChallengeName": "PASSWORD_VERIFIER",
                    "ChallengeResponses": {
                        "USERNAME": "x",
                        "PASSWORD_CLAIM_SECRET_BLOCK": "AAAA",
                        "PASSWORD_CLAIM_SIGNATURE": "AAAA",
                        "TIMESTAMP": "now",
                    },
                }
            ),
            "NotAuthorizedException",
        ),
        ("GlobalSignOut", json.dumps({"AccessToken": "not-a-token"}), "NotAuthorizedException"),
        ("DeleteUserPool", json.dumps({"UserPoolId": "x"}), "UnknownOperationException"),
        (None, json.dumps({"ClientId": client_id}), "UnknownOperationException"),
    ]
    for action, body, expected in cases:
        answer = raw_call(stack, action, body)
        assert answer.status_code == 400, (action, body, answer.status_code, answer.text)
        assert answer.json()["__type"] == expected, (action, body, answer.text)
        assert answer.json()["message"], (action, body, answer.text)
        assert answer.headers["x-amzn-ErrorType"] == expected
        assert answer.headers["Content-Type"] == "application/x-amz-json-1.1"


def test_the_front_answers_on_its_trailing_slash_and_to_browsers(stack: RunningStack) -> None:
    _, client_id = pool_and_client(stack)
    body = json.dumps({"ClientId": client_id, "Username": new_email()})
    answer = raw_call(stack, "ForgotPassword", body, path="/_local/cognito/")
    assert answer.status_code == 200 and answer.json()["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    preflight = requests.options(
        f"{stack.url}/_local/cognito",
        headers={"Origin": "http://example.org", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type,x-amz-target"},
        timeout=10,
    )  # fmt: skip
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "x-amz-target" in preflight.headers["Access-Control-Allow-Headers"]
    assert requests.get(f"{stack.url}/_local/cognito", timeout=10).status_code == 405


# -- the portal's own client, run by node ----------------------------------------------------------------------------
NODE_DRIVER = """
import { createCognito, CognitoError } from %(module)s;
const { endpoint, clientId, userPoolId, calls } = JSON.parse(process.argv[1]);
const cognito = createCognito({ endpoint, clientId, userPoolId });
const results = [];
for (const [method, ...args] of calls) {
  try {
    results.push({ ok: (await cognito[method](...args)) ?? null });
  } catch (error) {
    if (!(error instanceof CognitoError)) throw error;
    results.push({ error: error.code, message: error.message });
  }
}
console.log(JSON.stringify(results));
"""


def run_node(stack: RunningStack, calls: list[list[Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed on this machine: portal/js/cognito.js is not exercised here")
    pool_id, client_id = pool_and_client(stack)
    module = json.dumps((ROOT / "portal" / "js" / "cognito.js").as_uri())
    request = {"endpoint": f"{stack.url}/_local/cognito/", "clientId": client_id, "userPoolId": pool_id,
               "calls": calls}  # fmt: skip
    done = subprocess.run(
        [node, "--input-type=module", "-e", NODE_DRIVER % {"module": module}, json.dumps(request)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def test_the_portals_client_signs_up_confirms_signs_in_refreshes_and_signs_out(stack: RunningStack) -> None:
    email = new_email()
    attributes = {"given_name": "Aurore", "family_name": "Durand"}
    signed_up, unconfirmed = run_node(stack, [["signUp", email, PASSWORD, attributes], ["signIn", email, PASSWORD]])
    assert signed_up["ok"]["destination"] == "p***@e***" and signed_up["ok"]["confirmed"] is False
    assert unconfirmed["error"] == "UserNotConfirmedException"
    code = code_from_outbox(stack, email, SIGN_UP_SUBJECT)
    wrong = "000000" if code != "000000" else "111111"

    mismatch, confirmed, signed_in, refused = run_node(stack, [
        ["confirmSignUp", email, wrong], ["confirmSignUp", email, code],
        ["signIn", email, PASSWORD], ["signIn", email, NEW_PASSWORD],
    ])  # fmt: skip

    assert mismatch["error"] == "CodeMismatchException"
    assert confirmed == {"ok": None}
    tokens = signed_in["ok"]
    assert set(tokens) == {"idToken", "accessToken", "refreshToken", "expiresIn"}
    assert claims(tokens["idToken"])["cognito:groups"] == ["pro"]
    assert refused == {"error": "NotAuthorizedException", "message": "Incorrect username or password."}
    answer = requests.get(f"{stack.url}/offerers", headers={"Authorization": f"Bearer {tokens['idToken']}"}, timeout=10)
    assert answer.status_code == 200

    refreshed, signed_out, after = run_node(stack, [
        ["refresh", tokens["refreshToken"]], ["signOut", tokens["accessToken"]], ["refresh", tokens["refreshToken"]],
    ])  # fmt: skip
    assert set(refreshed["ok"]) == {"idToken", "accessToken", "expiresIn"}
    assert signed_out == {"ok": None}
    assert after["error"] == "NotAuthorizedException"


def test_the_portals_client_resets_a_forgotten_password(stack: RunningStack) -> None:
    email, _ = confirmed_pro(stack)
    (sent,) = run_node(stack, [["forgotPassword", email]])
    assert sent == {"ok": {"destination": "p***@e***"}}
    code = code_from_outbox(stack, email, RESET_SUBJECT)

    confirmed, new_ok, old_refused = run_node(stack, [
        ["confirmForgotPassword", email, code, NEW_PASSWORD], ["signIn", email, NEW_PASSWORD],
        ["signIn", email, PASSWORD],
    ])  # fmt: skip

    assert confirmed == {"ok": None}
    assert new_ok["ok"]["idToken"]
    assert old_refused["error"] == "NotAuthorizedException"


# -- concurrency (the gateway is threaded) ---------------------------------------------------------------------------
def test_concurrent_sign_ins_and_confirmations(stack: RunningStack) -> None:
    _, client_id = pool_and_client(stack)
    email, _ = confirmed_pro(stack)
    with ThreadPoolExecutor(max_workers=6) as pool:
        signed_in = list(pool.map(lambda _: srp_sign_in(stack, email, PASSWORD), range(6)))
    assert all(answer["AuthenticationResult"]["IdToken"] for answer in signed_in)

    other = new_email()
    sign_up(stack, other)
    code = code_from_outbox(stack, other, SIGN_UP_SUBJECT)

    def confirm(_: int) -> str:
        try:
            idp(stack).confirm_sign_up(ClientId=client_id, Username=other, ConfirmationCode=code)
        except ClientError as error:
            return str(error.response["Error"]["Code"])
        return "confirmed"

    with ThreadPoolExecutor(max_workers=5) as pool:
        outcomes = sorted(pool.map(confirm, range(5)))
    assert outcomes.count("confirmed") == 1, outcomes  # the code is used once: the trigger runs once
    assert set(outcomes) - {"confirmed"} <= {"ExpiredCodeException", "NotAuthorizedException"}, outcomes


# -- in process, moto behind: what the running stack cannot show (time, a failing trigger, the other client) -------
class FakeAws:
    def __init__(self) -> None:
        self.lock = threading.Lock()

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name="eu-west-3")  # type: ignore[call-overload]


class Trigger:
    """The PostConfirmation function's pool: records its events, or fails as told."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.failure = failure

    def invoke(self, event: dict[str, Any], timeout: float | None = None) -> Any:
        self.events.append(event)
        if self.failure is not None:
            raise self.failure
        return event


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def front(moto_stack: Any, trigger: Trigger, clock: Clock | None = None) -> LocalCognito:
    stack = SimpleNamespace(provisioned=moto_stack, template=load_template(), aws=FakeAws(),
                            functions={"PostConfirmationFunction": trigger})  # fmt: skip
    return LocalCognito(stack, clock or Clock())  # type: ignore[arg-type]


def call(cognito: LocalCognito, action: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    answer = cognito.handle("POST", {"X-Amz-Target": TARGET + action}, json.dumps(body).encode())
    return int(answer["statusCode"]), json.loads(answer["body"] or "{}")


def last_code(to: str) -> str:
    from moto.ses.models import ses_backends

    sent = [m for m in ses_backends["123456789012"]["eu-west-3"].sent_messages if to in str(m.destinations)]
    match = re.search(r"\b(\d{6})\b", parse(sent[-1])["text"])
    assert match
    return match.group(1)


def signed_up_in_process(cognito: LocalCognito, client_id: str, email: str) -> str:
    status, answer = call(cognito, "SignUp", {"ClientId": client_id, "Username": email, "Password": PASSWORD,
                                              "UserAttributes": [{"Name": "given_name", "Value": "Aurore"}]})  # fmt: skip
    assert status == 200, answer
    return str(answer["UserSub"])


def test_the_trigger_gets_cognitos_event(moto_stack: Any) -> None:
    trigger = Trigger()
    cognito = front(moto_stack, trigger)
    client_id, pool_id = moto_stack.ref("UserPoolClient"), moto_stack.ref("UserPool")
    sub = signed_up_in_process(cognito, client_id, "libraire@example.org")

    status, _ = call(cognito, "ConfirmSignUp", {"ClientId": client_id, "Username": "libraire@example.org",
                                                "ConfirmationCode": last_code("libraire@example.org"),
                                                "ClientMetadata": {"origin": "portal"}})  # fmt: skip

    assert status == 200
    (event,) = trigger.events
    assert event == {
        "version": "1",
        "region": "eu-west-3",
        "userPoolId": pool_id,
        "userName": sub,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id},
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "request": {
            "userAttributes": {"sub": sub, "email": "libraire@example.org", "given_name": "Aurore",
                               "email_verified": "true", "cognito:user_status": "CONFIRMED"},
            "clientMetadata": {"origin": "portal"},
        },
        "response": {},
    }  # fmt: skip


def test_a_failing_trigger_is_answered_as_cognito_does_and_the_user_stays_confirmed(moto_stack: Any) -> None:
    client_id, pool_id = moto_stack.ref("UserPoolClient"), moto_stack.ref("UserPool")
    raised = front(
        moto_stack, Trigger(FunctionError({"type": "ResourceNotFoundException", "message": "Group not found"}))
    )
    sub = signed_up_in_process(raised, client_id, "a@example.org")
    status, answer = call(raised, "ConfirmSignUp", {"ClientId": client_id, "Username": "a@example.org",
                                                    "ConfirmationCode": last_code("a@example.org")})  # fmt: skip
    assert (status, answer["__type"]) == (400, "UserLambdaValidationException")
    assert answer["message"] == "PostConfirmation failed with error Group not found."
    user = boto3.client("cognito-idp", region_name="eu-west-3").admin_get_user(UserPoolId=pool_id, Username=sub)
    assert user["UserStatus"] == "CONFIRMED"

    timed_out = front(moto_stack, Trigger(FunctionTimeout(5.0)))
    signed_up_in_process(timed_out, client_id, "b@example.org")
    status, answer = call(timed_out, "ConfirmSignUp", {"ClientId": client_id, "Username": "b@example.org",
                                                       "ConfirmationCode": last_code("b@example.org")})  # fmt: skip
    assert (status, answer["__type"]) == (400, "UnexpectedLambdaException")


def test_codes_expire(moto_stack: Any) -> None:
    clock = Clock()
    cognito = front(moto_stack, Trigger(), clock)
    client_id = moto_stack.ref("UserPoolClient")
    signed_up_in_process(cognito, client_id, "a@example.org")
    code = last_code("a@example.org")
    clock.now += 24 * 3600 + 1
    status, answer = call(cognito, "ConfirmSignUp",
                          {"ClientId": client_id, "Username": "a@example.org", "ConfirmationCode": code})  # fmt: skip
    assert (status, answer["__type"]) == (400, "ExpiredCodeException")

    call(cognito, "ResendConfirmationCode", {"ClientId": client_id, "Username": "a@example.org"})
    code = last_code("a@example.org")
    status, _ = call(cognito, "ConfirmSignUp",
                     {"ClientId": client_id, "Username": "a@example.org", "ConfirmationCode": code})  # fmt: skip
    assert status == 200
    call(cognito, "ForgotPassword", {"ClientId": client_id, "Username": "a@example.org"})
    code = last_code("a@example.org")
    clock.now += 3600 + 1  # a reset code lives an hour
    status, answer = call(cognito, "ConfirmForgotPassword", {"ClientId": client_id, "Username": "a@example.org",
                                                            "ConfirmationCode": code, "Password": NEW_PASSWORD})  # fmt: skip
    assert (status, answer["__type"]) == (400, "ExpiredCodeException")


def test_the_countermark_client_allows_the_password_flow_only(moto_stack: Any) -> None:
    cognito = front(moto_stack, Trigger())
    portal_client, basic_client = moto_stack.ref("UserPoolClient"), moto_stack.ref("CounterBasicAuthClient")
    signed_up_in_process(cognito, portal_client, "a@example.org")
    call(
        cognito,
        "ConfirmSignUp",
        {"ClientId": portal_client, "Username": "a@example.org", "ConfirmationCode": last_code("a@example.org")},
    )

    def password_auth(password: str, username: str = "a@example.org") -> tuple[int, dict[str, Any]]:
        return call(cognito, "InitiateAuth", {"ClientId": basic_client, "AuthFlow": "USER_PASSWORD_AUTH",
                                              "AuthParameters": {"USERNAME": username, "PASSWORD": password}})  # fmt: skip

    status, answer = password_auth(PASSWORD)
    assert status == 200 and claims(answer["AuthenticationResult"]["IdToken"])["aud"] == basic_client
    assert password_auth("Wrong-Password-1")[1]["__type"] == "NotAuthorizedException"
    assert password_auth(PASSWORD, "nobody@example.org")[1]["__type"] == "NotAuthorizedException"
    status, answer = call(cognito, "InitiateAuth", {"ClientId": basic_client, "AuthFlow": "USER_SRP_AUTH",
                                                    "AuthParameters": {"USERNAME": "a@example.org", "SRP_A": "ab"}})  # fmt: skip
    assert answer == {
        "__type": "InvalidParameterException",
        "message": "USER_SRP_AUTH flow not enabled for this client",
    }
