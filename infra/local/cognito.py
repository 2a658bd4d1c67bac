"""A local Cognito front (`POST /_local/cognito`): the user pool's public API as the browser calls it in AWS
(`POST https://cognito-idp.<region>.amazonaws.com/`, `X-Amz-Target: AWSCognitoIdentityProviderService.<Action>`,
JSON in and out, errors 400 with `x-amzn-ErrorType` and `{"__type", "message"}`), in front of the embedded moto.

moto keeps the users, their passwords, groups and tokens; this front adds what moto lacks or fakes:
- sign-up codes and forgotten-password codes: 6 digits, emailed through the embedded SES (they are in the outbox)
  with the pool's `VerificationMessageTemplate`, checked (mismatch, expiry, more than 5 wrong attempts void it);
- the pool's PostConfirmation trigger, invoked synchronously with Cognito's event through the local function pool;
- a real SRP-6a server for `USER_SRP_AUTH` (moto's SRP_B is a random uuid and nothing is verified): the
  PASSWORD_VERIFIER signature is checked, then the tokens come from moto (ADMIN_USER_PASSWORD_AUTH for this client);
- the app client's settings read from the template: `ExplicitAuthFlows` (a flow it does not allow is refused) and
  `PreventUserExistenceErrors` (an unknown user gets the answers a known one would, never UserNotFoundException);
- the pool's password policy with Cognito's messages, and case-insensitive user names
  (`UsernameConfiguration.CaseSensitive: false`).

moto runs in this process (infra/local/embedded_aws.py): a user's password and status are read from its backend,
under the embedded AWS's lock, never while a boto3 call is under way (that call would wait for the same lock).
Codes and SRP challenges live in memory, like moto's state: a restart forgets them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, NoReturn

from botocore.exceptions import ClientError

from infra.local.embedded_aws import ACCOUNT_ID, REGION
from infra.local.gateway import Response, gateway_error
from infra.local.runtime import FunctionError, FunctionTimeout

if TYPE_CHECKING:
    from infra.local.stack import LocalStack

log = logging.getLogger("local.cognito")

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
CONTENT_TYPE = "application/x-amz-json-1.1"
SIGN_UP_CODE_SECONDS = 24 * 3600  # Cognito: a sign-up code is valid 24 hours
FORGOT_PASSWORD_CODE_SECONDS = 3600  # Cognito: a password-reset code is valid 1 hour
MAX_WRONG_CODES = 5  # the 6th wrong code answers LimitExceededException and voids the code
SRP_CHALLENGE_SECONDS = 180  # Cognito's default AuthSessionValidity: 3 minutes to answer the challenge
TRIGGER_TIMEOUT_SECONDS = 5.0  # Cognito waits 5 s for a Lambda trigger
FORGOT_SUBJECT = "pass Culture pro : réinitialiser votre mot de passe"
FORGOT_MESSAGE = (
    "Bonjour, votre code pour réinitialiser le mot de passe de votre espace pass Culture pro est {####}. "
    "Il est valable une heure. Si vous n'avez rien demandé, ignorez ce message : votre mot de passe ne change pas."
)
DEFAULT_SUBJECT = "Your verification code"  # Cognito's own, when the pool sets no template
DEFAULT_MESSAGE = "Your verification code is {####}."
INITIATE_AUTH_FLOWS = ("USER_SRP_AUTH", "REFRESH_TOKEN_AUTH", "REFRESH_TOKEN", "CUSTOM_AUTH", "ADMIN_NO_SRP_AUTH",
                       "USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH", "USER_AUTH")  # fmt: skip
SYMBOLS = set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")  # Cognito's special characters (a space inside counts)
TIMESTAMP = re.compile(
    r"(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([1-9]|[12]\d|3[01]) "
    r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d UTC \d{4}"
)
WRONG_PASSWORD = "Incorrect username or password."

# -- SRP-6a as Cognito does it (amazon-cognito-identity-js AuthenticationHelper) ------------------------------------
# N: the 3072-bit MODP group of RFC 3526 (RFC 5054's), g = 2. Numbers travel as hex; before hashing, a number is
# written as an even number of hex digits with a leading "00" when its first digit is 8-f (`pad_hex`: a positive
# two's-complement byte string), and hashes are SHA-256 over those bytes.
N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
)
N = int(N_HEX, 16)
G = 2


def pad_hex(value: int) -> str:
    text = f"{value:x}"
    if len(text) % 2:
        return "0" + text
    return "00" + text if text[0] in "89abcdef" else text


def hash_hex(hex_text: str) -> int:
    """H(bytes): SHA-256 of the bytes a hex string writes, as a number."""
    return int(hashlib.sha256(bytes.fromhex(hex_text)).hexdigest(), 16)


K = hash_hex(pad_hex(N) + pad_hex(G))  # k = H(N | g)


def password_x(pool_name: str, user_id: str, password: str, salt: int) -> int:
    """x = H(salt | H(poolName | userId | ":" | password)), the inner hash as its 64 hex digits."""
    inner = hashlib.sha256(f"{pool_name}{user_id}:{password}".encode()).hexdigest()
    return hash_hex(pad_hex(salt) + inner)


def hkdf_key(s_value: int, u_value: int) -> bytes:
    """HKDF-SHA256 (salt = u, input = S, info = "Caldera Derived Key"), its first 16 bytes: the signing key."""
    prk = hmac.new(bytes.fromhex(pad_hex(u_value)), bytes.fromhex(pad_hex(s_value)), hashlib.sha256).digest()
    return hmac.new(prk, b"Caldera Derived Key\x01", hashlib.sha256).digest()[:16]


@dataclass(frozen=True)
class SrpServer:
    """One PASSWORD_VERIFIER challenge: the server's secret b and public B for the verifier v = g^x."""

    verifier: int
    b: int
    big_b: int

    @classmethod
    def start(cls, verifier: int) -> SrpServer:
        while True:
            b = secrets.randbelow(N - 1) + 1
            big_b = (K * verifier + pow(G, b, N)) % N  # B = k·v + g^b
            if big_b:
                return cls(verifier, b, big_b)

    def key(self, big_a: int) -> bytes | None:
        """The key both sides derive: S = (A · v^u)^b with u = H(A | B); None when u is 0 (refused, as SRP says)."""
        u = hash_hex(pad_hex(big_a) + pad_hex(self.big_b))
        if u == 0:
            return None
        s_value = pow(big_a * pow(self.verifier, u, N) % N, self.b, N)
        return hkdf_key(s_value, u)


def password_signature(key: bytes, pool_name: str, user_id: str, secret_block: bytes, timestamp: str) -> bytes:
    message = pool_name.encode() + user_id.encode() + secret_block + timestamp.encode()
    return hmac.new(key, message, hashlib.sha256).digest()


# -- errors and codes -----------------------------------------------------------------------------------------------
class CognitoError(Exception):
    """An answer in Cognito's error shape: HTTP 400 (unless said), `__type` and `message`."""

    def __init__(self, name: str, message: str, status: int = 400) -> None:
        super().__init__(f"{name}: {message}")
        self.name, self.message, self.status = name, message, status


def invalid(message: str) -> CognitoError:
    return CognitoError("InvalidParameterException", message)


@dataclass
class PendingCode:
    code: str
    expires_at: float
    wrong: int = 0
    void: bool = False


class CodeStore:
    """Codes by (pool, user sub), one per user and purpose; thread-safe."""

    def __init__(self, lifetime: float, clock: Callable[[], float] = time.time) -> None:
        self._lifetime = lifetime
        self._clock = clock
        self._codes: dict[tuple[str, str], PendingCode] = {}
        self._lock = threading.Lock()

    def issue(self, key: tuple[str, str]) -> str:
        code = f"{secrets.randbelow(1_000_000):06d}"
        now = self._clock()
        with self._lock:
            for stale in [k for k, pending in self._codes.items() if pending.expires_at <= now]:
                del self._codes[stale]
            self._codes[key] = PendingCode(code, now + self._lifetime)  # a new code replaces the previous one
        return code

    def consume(self, key: tuple[str, str], given: str) -> None:
        """The right code is used up (a second confirmation with it is refused); a wrong one counts."""
        with self._lock:
            pending = self._codes.get(key)
            if pending is None:
                raise CognitoError("ExpiredCodeException", "Invalid code provided, please request a code again.")
            if pending.void:
                raise CognitoError("LimitExceededException", "Attempt limit exceeded, please try after some time.")
            if pending.expires_at <= self._clock():
                del self._codes[key]
                raise CognitoError("ExpiredCodeException", "Invalid code provided, please request a code again.")
            if not hmac.compare_digest(pending.code.encode(), given.encode()):
                pending.wrong += 1
                if pending.wrong > MAX_WRONG_CODES:
                    pending.void = True
                    raise CognitoError("LimitExceededException", "Attempt limit exceeded, please try after some time.")
                raise CognitoError("CodeMismatchException", "Invalid verification code provided, please try again.")
            del self._codes[key]

    def restore(self, key: tuple[str, str], code: str) -> None:
        """Puts a consumed code back (what it was to confirm failed before anything changed)."""
        with self._lock:
            self._codes.setdefault(key, PendingCode(code, self._clock() + self._lifetime))


def masked(address: str) -> str:
    """How Cognito shows where a code went: "j***@e***"."""
    local, at, domain = address.partition("@")
    return f"{local[:1]}***@{domain[:1]}***" if at else f"{address[:1]}***"


def delivery(address: str) -> dict[str, str]:
    return {"Destination": masked(address), "DeliveryMedium": "EMAIL", "AttributeName": "email"}


# -- the pool, its clients and users as the front sees them ---------------------------------------------------------
@dataclass(frozen=True)
class AppClient:
    client_id: str
    pool_id: str
    auth_flows: frozenset[str]  # without the ALLOW_ prefix
    prevent_user_existence_errors: bool


@dataclass(frozen=True)
class Pool:
    pool_id: str
    logical_id: str
    password_policy: Mapping[str, Any]
    case_sensitive: bool
    email_subject: str
    email_message: str
    post_confirmation: str | None  # the trigger's function (logical id)

    @property
    def name(self) -> str:
        """What SRP calls the pool's name: its id after the region and "_"."""
        return self.pool_id.split("_", 1)[1]


@dataclass(frozen=True)
class User:
    sub: str
    username: str  # moto's internal user name (the sub, for a pool whose users sign in with their email)
    password: str
    status: str
    enabled: bool
    attributes: dict[str, str]

    @property
    def email(self) -> str:
        return self.attributes.get("email", "")

    @property
    def login_name(self) -> str:
        """The name to give moto for tokens: moto writes it as the ID token's `email` in an email pool."""
        return self.email or self.username


@dataclass(frozen=True)
class Challenge:
    pool: Pool
    client: AppClient
    user: User | None  # None: an unknown user, answered as if it existed (PreventUserExistenceErrors)
    user_id: str
    srp: SrpServer
    big_a: int
    expires_at: float


class LocalCognito:
    def __init__(self, stack: LocalStack, clock: Callable[[], float] = time.time) -> None:
        self._stack = stack
        self._clock = clock
        self._sign_up_codes = CodeStore(SIGN_UP_CODE_SECONDS, clock)
        self._reset_codes = CodeStore(FORGOT_PASSWORD_CODE_SECONDS, clock)
        self._challenges: dict[str, Challenge] = {}
        self._lock = threading.Lock()
        self._sign_up_lock = threading.Lock()  # one sign-up at a time: the "exists?" check and moto's create
        self._secret = secrets.token_bytes(32)  # fake salts and ids for unknown users, stable for this process
        self._config: tuple[dict[str, AppClient], dict[str, Pool], str] | None = None
        self._actions: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "SignUp": self.sign_up,
            "ResendConfirmationCode": self.resend_confirmation_code,
            "ConfirmSignUp": self.confirm_sign_up,
            "InitiateAuth": self.initiate_auth,
            "RespondToAuthChallenge": self.respond_to_auth_challenge,
            "ForgotPassword": self.forgot_password,
            "ConfirmForgotPassword": self.confirm_forgot_password,
            "GlobalSignOut": self.global_sign_out,
            "GetUser": self.get_user,
        }

    # -- HTTP ----------------------------------------------------------------------------------------------------
    def handle(self, method: str, headers: Mapping[str, str], body: bytes | None) -> Response:
        lowered = {name.lower(): value for name, value in headers.items()}
        if method == "OPTIONS":  # Cognito answers browsers from any origin
            requested = lowered.get("access-control-request-headers", "content-type,x-amz-target,x-amz-user-agent")
            return self._answer(200, None, {"Access-Control-Allow-Methods": "POST, OPTIONS",
                                            "Access-Control-Allow-Headers": requested,
                                            "Access-Control-Max-Age": "600"})  # fmt: skip
        if method != "POST":
            return gateway_error(405, "METHOD_NOT_ALLOWED", "Allowed: POST, OPTIONS.", {"Allow": "POST, OPTIONS"})
        try:
            target = lowered.get("x-amz-target", "")
            action = self._actions.get(target[len(TARGET_PREFIX) :]) if target.startswith(TARGET_PREFIX) else None
            if action is None:
                raise CognitoError("UnknownOperationException", f"Unknown operation: {target or '(no X-Amz-Target)'}")
            try:
                request = json.loads(body or b"{}")
            except ValueError as error:
                raise CognitoError("SerializationException", "The request body is not valid JSON.") from error
            if not isinstance(request, dict):
                raise CognitoError("SerializationException", "The request body must be a JSON object.")
            return self._answer(200, action(request))
        except CognitoError as error:
            return self._error(error)
        except Exception as error:  # a fault of this front: Cognito's InternalErrorException, no traceback out
            from pass_culture.observability import redact  # no personal data in a log line

            log.error("the local Cognito failed: %s: %s", type(error).__name__, redact(str(error)))
            return self._error(CognitoError("InternalErrorException", "The local Cognito failed (see its log).", 500))

    def _answer(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
        return {
            "statusCode": status,
            "headers": {
                "Content-Type": CONTENT_TYPE,
                "x-amzn-RequestId": str(uuid.uuid4()),
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Expose-Headers": "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,Date",
                **(headers or {}),
            },
            "multiValueHeaders": {},
            "body": "" if payload is None else json.dumps(payload, ensure_ascii=False),
        }

    def _error(self, error: CognitoError) -> Response:
        return self._answer(
            error.status, {"__type": error.name, "message": error.message}, {"x-amzn-ErrorType": error.name}
        )

    # -- configuration, read from the template and what the embedded AWS created ---------------------------------
    def _configuration(self) -> tuple[dict[str, AppClient], dict[str, Pool], str]:
        if self._config is None:
            provisioned = self._stack.provisioned
            assert provisioned is not None, "the local stack is not started"
            resources = self._stack.template["Resources"]
            function_arns = {
                str(arn): logical_id
                for (logical_id, attribute), arn in provisioned.resolver.attributes.items()
                if attribute == "Arn" and resources.get(logical_id, {}).get("Type") == "AWS::Serverless::Function"
            }
            clients: dict[str, AppClient] = {}
            pools: dict[str, Pool] = {}
            for logical_id, resource in resources.items():
                if logical_id not in provisioned.resolver.refs:
                    continue  # not created locally (a condition)
                if resource["Type"] == "AWS::Cognito::UserPool":
                    p = provisioned.resolver.resolve(resource.get("Properties", {}))
                    template = p.get("VerificationMessageTemplate", {})
                    trigger = p.get("LambdaConfig", {}).get("PostConfirmation")
                    pool_id = str(provisioned.ref(logical_id))
                    pools[pool_id] = Pool(
                        pool_id=pool_id,
                        logical_id=logical_id,
                        password_policy=p.get("Policies", {}).get("PasswordPolicy", {}),
                        case_sensitive=bool(p.get("UsernameConfiguration", {}).get("CaseSensitive", True)),
                        email_subject=template.get("EmailSubject") or p.get("EmailVerificationSubject")
                        or DEFAULT_SUBJECT,
                        email_message=template.get("EmailMessage") or p.get("EmailVerificationMessage")
                        or DEFAULT_MESSAGE,
                        post_confirmation=function_arns.get(str(trigger)) if trigger else None,
                    )  # fmt: skip
                elif resource["Type"] == "AWS::Cognito::UserPoolClient":
                    p = provisioned.resolver.resolve(resource.get("Properties", {}))
                    flows = p.get("ExplicitAuthFlows") or ["ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"]
                    client_id = str(provisioned.ref(logical_id))
                    clients[client_id] = AppClient(
                        client_id=client_id,
                        pool_id=str(p["UserPoolId"]),
                        auth_flows=frozenset(str(flow).removeprefix("ALLOW_") for flow in flows),
                        prevent_user_existence_errors=p.get("PreventUserExistenceErrors", "LEGACY") == "ENABLED",
                    )
            environment = self._stack.template.get("Globals", {}).get("Function", {}).get("Environment", {})
            sender_value = environment.get("Variables", {}).get("SENDER_EMAIL")
            if sender_value is None:
                domain = self._stack.template["Parameters"]["SenderDomain"]["Default"]
                sender_value = f"no-reply@{domain}"
            self._config = (clients, pools, str(provisioned.resolver.resolve(sender_value)))
        return self._config

    def _client(self, request: dict[str, Any]) -> tuple[AppClient, Pool]:
        client_id = required(request, "ClientId")
        clients, pools, _ = self._configuration()
        client = clients.get(client_id)
        if client is None or client.pool_id not in pools:
            raise CognitoError("ResourceNotFoundException", f"User pool client {client_id} does not exist.")
        return client, pools[client.pool_id]

    # -- moto ----------------------------------------------------------------------------------------------------
    def _find_user(self, pool: Pool, username: str) -> User | None:
        """The user a name designates (their sub, or their email in an email pool; case-insensitively when the pool
        says so), read from moto's backend in this process under the embedded AWS's lock."""
        from moto.cognitoidp.models import cognitoidp_backends

        def fold(text: str) -> str:
            return text if pool.case_sensitive else text.lower()

        wanted = fold(username)
        with self._stack.aws.lock:
            moto_pool = cognitoidp_backends[ACCOUNT_ID][REGION].user_pools.get(pool.pool_id)
            if moto_pool is None:
                return None
            aliases = list(moto_pool.extended_config.get("UsernameAttributes") or [])
            found = moto_pool.users.get(username)
            for candidate in moto_pool.users.values():
                if found is not None:
                    break
                attributes = {a["Name"]: a["Value"] for a in candidate.attributes}
                names = [attributes.get(alias, "") for alias in aliases] if aliases else [candidate.username]
                if any(name and fold(name) == wanted for name in names):
                    found = candidate
            if found is None:
                return None
            return User(
                sub=str(found.id),
                username=str(found.username),
                password=str(found.password or ""),
                status=str(getattr(found.status, "value", found.status)),
                enabled=bool(found.enabled),
                attributes={str(a["Name"]): str(a["Value"]) for a in found.attributes},
            )

    def _moto(self, call: Callable[..., Any], **parameters: Any) -> Any:
        """A call to the embedded moto; its Cognito error answered as is."""
        try:
            return call(**parameters)
        except ClientError as error:
            details = error.response.get("Error", {})
            name, message = str(details.get("Code", "InternalErrorException")), str(details.get("Message", ""))
            raise CognitoError(name, message) from error

    @property
    def _idp(self) -> Any:
        return self._stack.aws.client("cognito-idp")

    def _send_code(self, to: str, subject: str, template: str, code: str) -> None:
        _, _, sender = self._configuration()
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = sender, to, subject
        message.set_content(template.replace("{####}", code))
        ses = self._stack.aws.client("ses")
        try:
            ses.send_raw_email(Source=sender, Destinations=[to], RawMessage={"Data": message.as_bytes()})
        except ClientError as error:
            code_name = error.response.get("Error", {}).get("Code", "")
            raise CognitoError("CodeDeliveryFailureException", f"Unable to deliver the code ({code_name}).") from error

    def _post_confirmation(
        self, pool: Pool, client: AppClient, user: User, source: str, request: dict[str, Any]
    ) -> None:
        """The pool's PostConfirmation trigger, synchronously, with Cognito's event. A failure is the caller's
        answer; what was confirmed stays confirmed, as in AWS."""
        if pool.post_confirmation is None:
            return
        confirmed = self._find_user(pool, user.sub) or user
        attributes = {**confirmed.attributes, "cognito:user_status": "CONFIRMED"}
        event: dict[str, Any] = {
            "version": "1",
            "region": REGION,
            "userPoolId": pool.pool_id,
            "userName": confirmed.username,
            "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client.client_id},
            "triggerSource": source,
            "request": {"userAttributes": attributes},
            "response": {},
        }
        metadata = request.get("ClientMetadata")
        if isinstance(metadata, dict) and metadata:
            event["request"]["clientMetadata"] = {str(k): str(v) for k, v in metadata.items()}
        try:
            answer = self._stack.functions[pool.post_confirmation].invoke(event, timeout=TRIGGER_TIMEOUT_SECONDS)
        except FunctionTimeout as error:
            raise CognitoError(
                "UnexpectedLambdaException", "PostConfirmation invocation failed due to error TimeOut."
            ) from error
        except FunctionError as error:
            if error.type.startswith(("Runtime.", "Sandbox.")):  # the environment failed, not the handler
                raise CognitoError(
                    "UnexpectedLambdaException", f"PostConfirmation invocation failed due to error {error.type}."
                ) from error
            raise CognitoError(  # the handler raised: Cognito names it UserLambdaValidationException
                "UserLambdaValidationException", f"PostConfirmation failed with error {error.message}."
            ) from error
        if not isinstance(answer, dict):
            raise CognitoError("InvalidLambdaResponseException", "Invalid lambda function output : Invalid JSON")

    # -- sign-up -------------------------------------------------------------------------------------------------
    def sign_up(self, request: dict[str, Any]) -> dict[str, Any]:
        client, pool = self._client(request)
        username, password = required(request, "Username"), required(request, "Password", "password")
        attributes = attribute_list(request.get("UserAttributes"))
        check_password(pool.password_policy, password)
        with self._sign_up_lock:
            if self._find_user(pool, username) is not None:
                raise CognitoError("UsernameExistsException", "An account with the given email already exists.")
            created = self._moto(self._idp.sign_up, ClientId=client.client_id, Username=username,
                                 Password=password, UserAttributes=attributes)  # fmt: skip
        user = self._find_user(pool, str(created["UserSub"]))
        if user is None or not user.email:
            raise invalid("The user has no email address to send the code to.")
        self._send_code(user.email, pool.email_subject, pool.email_message,
                        self._sign_up_codes.issue((pool.pool_id, user.sub)))  # fmt: skip
        return {"UserConfirmed": False, "UserSub": user.sub, "CodeDeliveryDetails": delivery(user.email)}

    def resend_confirmation_code(self, request: dict[str, Any]) -> dict[str, Any]:
        client, pool = self._client(request)
        username = required(request, "Username")
        user = self._find_user(pool, username)
        if user is None:
            return {"CodeDeliveryDetails": delivery(username)} if self._hides(client) else not_found()
        if user.status != "UNCONFIRMED":
            raise invalid("User is already confirmed.")
        self._send_code(user.email, pool.email_subject, pool.email_message,
                        self._sign_up_codes.issue((pool.pool_id, user.sub)))  # fmt: skip
        return {"CodeDeliveryDetails": delivery(user.email)}

    def confirm_sign_up(self, request: dict[str, Any]) -> dict[str, Any]:
        client, pool = self._client(request)
        username, code = required(request, "Username"), required(request, "ConfirmationCode")
        user = self._find_user(pool, username)
        if user is None:
            if self._hides(client):
                raise CognitoError("CodeMismatchException", "Invalid verification code provided, please try again.")
            not_found()
        if user.status != "UNCONFIRMED":
            raise CognitoError("NotAuthorizedException", f"User cannot be confirmed. Current status is {user.status}")
        self._sign_up_codes.consume((pool.pool_id, user.sub), code)
        self._moto(self._idp.admin_confirm_sign_up, UserPoolId=pool.pool_id, Username=user.username)
        self._verify_email(pool, user)
        self._post_confirmation(pool, client, user, "PostConfirmation_ConfirmSignUp", request)
        return {}

    def _verify_email(self, pool: Pool, user: User) -> None:
        """The code went to the email: Cognito marks it verified (moto's confirmation does not)."""
        if user.attributes.get("email_verified") != "true":
            self._moto(self._idp.admin_update_user_attributes, UserPoolId=pool.pool_id, Username=user.username,
                       UserAttributes=[{"Name": "email_verified", "Value": "true"}])  # fmt: skip

    # -- forgotten password --------------------------------------------------------------------------------------
    def forgot_password(self, request: dict[str, Any]) -> dict[str, Any]:
        client, pool = self._client(request)
        username = required(request, "Username")
        user = self._find_user(pool, username)
        if user is None or not user.enabled:
            return {"CodeDeliveryDetails": delivery(username)} if self._hides(client) else not_found()
        if user.status == "FORCE_CHANGE_PASSWORD":
            raise CognitoError("NotAuthorizedException", "User password cannot be reset in the current state.")
        if not user.email or user.attributes.get("email_verified") != "true":
            raise invalid("Cannot reset password for the user as there is no registered/verified email or phone_number")
        self._send_code(user.email, FORGOT_SUBJECT, FORGOT_MESSAGE, self._reset_codes.issue((pool.pool_id, user.sub)))
        return {"CodeDeliveryDetails": delivery(user.email)}

    def confirm_forgot_password(self, request: dict[str, Any]) -> dict[str, Any]:
        client, pool = self._client(request)
        username, code = required(request, "Username"), required(request, "ConfirmationCode")
        password = required(request, "Password", "password")
        check_password(pool.password_policy, password)
        user = self._find_user(pool, username)
        if user is None:
            if self._hides(client):
                raise CognitoError("CodeMismatchException", "Invalid verification code provided, please try again.")
            not_found()
        key = (pool.pool_id, user.sub)
        self._reset_codes.consume(key, code)
        try:
            self._moto(self._idp.admin_set_user_password, UserPoolId=pool.pool_id, Username=user.username,
                       Password=password, Permanent=True)  # fmt: skip
        except CognitoError:
            self._reset_codes.restore(key, code)  # nothing changed: the code still works
            raise
        self._verify_email(pool, user)
        self._post_confirmation(pool, client, user, "PostConfirmation_ConfirmForgotPassword", request)
        return {}

    # -- sign-in -------------------------------------------------------------------------------------------------
    def initiate_auth(self, request: dict[str, Any]) -> dict[str, Any]:
        client, pool = self._client(request)
        flow = required(request, "AuthFlow")
        parameters = string_map(request.get("AuthParameters"), "AuthParameters")
        if flow not in INITIATE_AUTH_FLOWS:
            raise invalid(
                f"1 validation error detected: Value '{flow}' at 'authFlow' failed to satisfy constraint: Member must "
                f"satisfy enum value set: [{', '.join(INITIATE_AUTH_FLOWS)}]"
            )
        if flow.startswith("ADMIN_"):
            raise invalid("Initiate Auth method not supported.")
        if flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
            if not parameters.get("REFRESH_TOKEN"):
                raise invalid("Missing required parameter REFRESH_TOKEN")
            answer = self._moto(self._idp.initiate_auth, ClientId=client.client_id, AuthFlow=flow,
                                AuthParameters={"REFRESH_TOKEN": parameters["REFRESH_TOKEN"]})  # fmt: skip
            return {"ChallengeParameters": {}, "AuthenticationResult": answer["AuthenticationResult"]}
        if flow not in client.auth_flows:
            raise invalid(f"{flow} flow not enabled for this client")
        if flow == "USER_PASSWORD_AUTH":
            return self._password_auth(client, pool, parameters)
        if flow != "USER_SRP_AUTH":
            raise invalid(f"{flow} is not run by the local Cognito.")
        username = parameters.get("USERNAME") or ""
        if not username:
            raise invalid("Missing required parameter USERNAME")
        try:
            big_a = int(parameters.get("SRP_A") or "", 16)
        except ValueError as error:
            raise invalid("Missing or invalid SRP_A: a hexadecimal number is expected.") from error
        if big_a % N == 0:
            raise invalid("SRP_A is invalid.")
        user = self._find_user(pool, username)
        if user is None and not client.prevent_user_existence_errors:
            not_found()
        if user is not None:
            user_id = user.username
            salt = self._number(f"salt|{pool.pool_id}|{user.sub}|{user.password}")  # changes with the password
            verifier = pow(G, password_x(pool.name, user_id, user.password, salt), N)
        else:  # the same answer shape as for a user, stable for a name: an attacker learns nothing
            user_id = str(uuid.UUID(int=self._number(f"id|{pool.pool_id}|{username.lower()}") >> 2, version=4))
            salt = self._number(f"salt|{pool.pool_id}|{username.lower()}")
            verifier = pow(G, self._number(f"x|{pool.pool_id}|{username.lower()}"), N)
        srp = SrpServer.start(verifier)
        secret_block = base64.b64encode(secrets.token_bytes(96)).decode()
        with self._lock:
            now = self._clock()
            for stale in [k for k, c in self._challenges.items() if c.expires_at <= now]:
                del self._challenges[stale]
            self._challenges[secret_block] = Challenge(pool, client, user, user_id, srp, big_a,
                                                       now + SRP_CHALLENGE_SECONDS)  # fmt: skip
        return {
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeParameters": {
                "SALT": f"{salt:x}",
                "SRP_B": f"{srp.big_b:x}",
                "SECRET_BLOCK": secret_block,
                "USER_ID_FOR_SRP": user_id,
                "USERNAME": user_id,
            },
        }

    def _number(self, label: str) -> int:
        """A 128-bit number derived from this process's secret (fake salts and ids, stable for a name)."""
        return int.from_bytes(hmac.new(self._secret, label.encode(), hashlib.sha256).digest()[:16], "big")

    def respond_to_auth_challenge(self, request: dict[str, Any]) -> dict[str, Any]:
        client, pool = self._client(request)
        name = required(request, "ChallengeName")
        responses = string_map(request.get("ChallengeResponses"), "ChallengeResponses")
        if name != "PASSWORD_VERIFIER":  # NEW_PASSWORD_REQUIRED and the like: moto keeps their sessions
            parameters: dict[str, Any] = {"ClientId": client.client_id, "ChallengeName": name,
                                          "ChallengeResponses": responses}  # fmt: skip
            if isinstance(request.get("Session"), str):
                parameters["Session"] = request["Session"]
            return dict(self._moto(self._idp.respond_to_auth_challenge, **parameters))
        for field in ("USERNAME", "PASSWORD_CLAIM_SECRET_BLOCK", "PASSWORD_CLAIM_SIGNATURE", "TIMESTAMP"):
            if not responses.get(field):
                raise invalid(f"Missing required parameter {field}")
        with self._lock:
            challenge = self._challenges.pop(responses["PASSWORD_CLAIM_SECRET_BLOCK"], None)  # one answer each
        if challenge is None or challenge.expires_at <= self._clock() or challenge.client != client:
            raise CognitoError("NotAuthorizedException", "Invalid session for the user, session is expired.")
        if not TIMESTAMP.fullmatch(responses["TIMESTAMP"]):
            raise invalid("TIMESTAMP is not in Cognito's format (e.g. 'Tue Nov 24 08:24:38 UTC 2026').")
        try:
            secret_block = base64.b64decode(responses["PASSWORD_CLAIM_SECRET_BLOCK"], validate=True)
            claimed = base64.b64decode(responses["PASSWORD_CLAIM_SIGNATURE"], validate=True)
        except ValueError as error:
            raise CognitoError("NotAuthorizedException", WRONG_PASSWORD) from error
        key = challenge.srp.key(challenge.big_a)
        user = challenge.user
        same_user = responses["USERNAME"] == challenge.user_id or (
            user is not None and self._find_user(pool, responses["USERNAME"]) == user
        )
        expected = password_signature(key or b"", pool.name, challenge.user_id, secret_block, responses["TIMESTAMP"])
        if user is None or key is None or not same_user or not hmac.compare_digest(expected, claimed):
            raise CognitoError("NotAuthorizedException", WRONG_PASSWORD)
        current = self._find_user(pool, user.sub)
        if current is None or current.password != user.password:  # deleted, or its password changed meanwhile
            raise CognitoError("NotAuthorizedException", WRONG_PASSWORD)
        return self._signed_in(client, pool, current)

    def _signed_in(self, client: AppClient, pool: Pool, user: User) -> dict[str, Any]:
        """The password was proven: the user's state decides, then moto issues the tokens for this client."""
        if not user.enabled:
            raise CognitoError("NotAuthorizedException", "User is disabled.")
        if user.status == "UNCONFIRMED":
            raise CognitoError("UserNotConfirmedException", "User is not confirmed.")
        if user.status == "RESET_REQUIRED":
            raise CognitoError("PasswordResetRequiredException", "Password reset required for the user")
        try:
            answer = self._moto(self._idp.admin_initiate_auth, UserPoolId=pool.pool_id, ClientId=client.client_id,
                                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                AuthParameters={"USERNAME": user.login_name, "PASSWORD": user.password})  # fmt: skip
        except CognitoError as error:  # the password changed meanwhile (moto's message would name the user)
            raise CognitoError("NotAuthorizedException", WRONG_PASSWORD) from error
        if "AuthenticationResult" in answer:
            return {"ChallengeParameters": {}, "AuthenticationResult": answer["AuthenticationResult"]}
        challenge_parameters = {**answer.get("ChallengeParameters", {}), "USER_ID_FOR_SRP": user.username}
        return {"ChallengeName": answer["ChallengeName"], "Session": answer.get("Session"),
                "ChallengeParameters": challenge_parameters}  # fmt: skip

    def _password_auth(self, client: AppClient, pool: Pool, parameters: dict[str, str]) -> dict[str, Any]:
        """USER_PASSWORD_AUTH, for a client that allows it (the countermark API's Basic auth)."""
        username, password = parameters.get("USERNAME") or "", parameters.get("PASSWORD") or ""
        if not username or not password:
            raise invalid("Missing required parameter USERNAME or PASSWORD")
        user = self._find_user(pool, username)
        if user is None:
            if client.prevent_user_existence_errors:
                raise CognitoError("NotAuthorizedException", WRONG_PASSWORD)
            not_found()
        if not hmac.compare_digest(user.password.encode(), password.encode()):
            raise CognitoError("NotAuthorizedException", WRONG_PASSWORD)
        return self._signed_in(client, pool, user)

    def _hides(self, client: AppClient) -> bool:
        return client.prevent_user_existence_errors

    # -- with an access token ------------------------------------------------------------------------------------
    def global_sign_out(self, request: dict[str, Any]) -> dict[str, Any]:
        """In moto's backend directly: botocore sends GlobalSignOut unsigned, so moto's server cannot tell its region
        and looks for the token in us-east-1."""
        from moto.cognitoidp.models import cognitoidp_backends
        from moto.core.exceptions import JsonRESTError

        token = required(request, "AccessToken")
        with self._stack.aws.lock:
            try:
                cognitoidp_backends[ACCOUNT_ID][REGION].global_sign_out(token)
            except JsonRESTError as error:
                raise CognitoError("NotAuthorizedException", "Invalid Access Token") from error
        return {}

    def get_user(self, request: dict[str, Any]) -> dict[str, Any]:
        answer = self._moto(self._idp.get_user, AccessToken=required(request, "AccessToken"))
        return {key: answer[key] for key in ("Username", "UserAttributes", "MFAOptions") if key in answer}


# -- request checks -------------------------------------------------------------------------------------------------
def required(request: dict[str, Any], name: str, wire_name: str | None = None) -> str:
    """A required string member: missing → InvalidParameterException, not a string → SerializationException."""
    value = request.get(name)
    if value is None or value == "":
        field = wire_name or name[0].lower() + name[1:]
        raise invalid(f"1 validation error detected: Value null at '{field}' failed to satisfy constraint: "
                      "Member must not be null")  # fmt: skip
    if not isinstance(value, str):
        raise CognitoError("SerializationException", f"{name} must be a string.")
    return value


def string_map(value: Any, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise CognitoError("SerializationException", f"{name} must be a map of strings.")
    return {str(k): v for k, v in value.items()}


def attribute_list(value: Any) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(item, dict) and isinstance(item.get("Name"), str) and isinstance(item.get("Value", ""), str)
        for item in value
    ):
        raise CognitoError("SerializationException", "UserAttributes must be a list of {Name, Value} strings.")
    return [{"Name": item["Name"], "Value": item.get("Value", "")} for item in value]


def check_password(policy: Mapping[str, Any], password: str) -> None:
    """The pool's password policy, with Cognito's messages."""
    if password != password.strip() or len(password) > 256:
        raise invalid(
            "1 validation error detected: Value at 'password' failed to satisfy constraint: Member must satisfy "
            "regular expression pattern: ^[\\S]+.*[\\S]+$"
        )
    rules = [
        (len(password) >= int(policy.get("MinimumLength", 8)), "Password not long enough"),
        (not policy.get("RequireLowercase", True) or any(c.islower() for c in password),
         "Password must have lowercase characters"),
        (not policy.get("RequireUppercase", True) or any(c.isupper() for c in password),
         "Password must have uppercase characters"),
        (not policy.get("RequireNumbers", True) or any(c.isdigit() for c in password),
         "Password must have numeric characters"),
        (not policy.get("RequireSymbols", True) or any(c in SYMBOLS for c in password),
         "Password must have symbol characters"),
    ]  # fmt: skip
    for holds, message in rules:
        if not holds:
            raise CognitoError("InvalidPasswordException", f"Password did not conform with policy: {message}")


def not_found() -> NoReturn:
    """A client whose PreventUserExistenceErrors is LEGACY says the user does not exist."""
    raise CognitoError("UserNotFoundException", "User does not exist.")
