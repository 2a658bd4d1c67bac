"""Through the local gateway over HTTP, as the app, the pro portal and venue software would call it."""

from __future__ import annotations

import base64
import json
import re
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from openapi_spec_validator import validate

from infra.local.template import functions, load_template
from tests.e2e.conftest import PASSWORD, RunningStack

SEEDED = {
    "admin@passculture.local": "admin",
    "libraire@librairie-marais.example": "pro",
    "mediatheque@saint-ouen-sur-loire.example": "pro",
    "jeune@passculture.local": "beneficiary",
}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_health_and_subcategories(stack: RunningStack) -> None:
    assert requests.get(f"{stack.url}/health", timeout=10).json() == {"status": "ok"}
    items = requests.get(f"{stack.url}/subcategories", timeout=10).json()["items"]
    by_id = {item["id"]: item for item in items}
    assert by_id["ABO_BIBLIOTHEQUE"]["autoValidatedWhenFree"] is True
    assert by_id["SEANCE_CINE"]["isEvent"] is True


def test_the_gateway_serves_requests_in_parallel(stack: RunningStack) -> None:
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda _: requests.get(f"{stack.url}/health", timeout=20).status_code, range(60)))
    assert statuses == [200] * 60


def test_the_merged_openapi_document_covers_every_deployed_route(stack: RunningStack) -> None:
    document = requests.get(f"{stack.url}/openapi.json", timeout=30).json()
    assert document["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    deployed = {(r.path, r.method) for f in functions(load_template()) for r in f.routes}
    assert documented == deployed
    docs = requests.get(f"{stack.url}/docs", timeout=10)
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text


def test_seeded_logins_are_printed_and_work(stack: RunningStack) -> None:
    printed = "".join(stack.output)
    for email, group in SEEDED.items():
        assert email in printed
        token = stack.login(email)
        assert claims(token)["cognito:groups"] == [group]
        assert claims(token)["email"] == email


def test_users_are_created_in_the_user_pool(stack: RunningStack) -> None:
    email = f"pro-{uuid.uuid4().hex[:8]}@example.org"
    body = {"email": email, "password": PASSWORD, "group": "pro", "firstName": "Léa", "lastName": "Pro"}
    created = requests.post(f"{stack.url}/_local/users", json=body, timeout=10)
    assert created.status_code == 201
    token = stack.login(email)
    assert claims(token)["sub"] == created.json()["userId"]
    assert requests.post(f"{stack.url}/_local/users", json=body, timeout=10).status_code == 409
    assert requests.post(f"{stack.url}/_local/users", json={**body, "group": "root"}, timeout=10).status_code == 400
    assert requests.post(f"{stack.url}/_local/users", data=b"{nope", timeout=10).status_code == 400
    wrong = requests.post(f"{stack.url}/_local/login", json={"email": email, "password": "wrong"}, timeout=10)
    assert wrong.status_code == 401


def forged_token(stack: RunningStack) -> str:
    """A well-formed token with the right claims, signed by a key that is not the user pool's."""
    real = claims(stack.login("admin@passculture.local"))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(real, key, algorithm="RS256", headers={"kid": "dummy"})


@pytest.mark.parametrize("how", ["none", "garbage", "forged", "not bearer"])
def test_no_valid_token_is_401(stack: RunningStack, how: str) -> None:
    headers = {
        "none": {},
        "garbage": auth("not-a-token"),
        "forged": auth(forged_token(stack)),
        "not bearer": {"Authorization": "Basic YWRtaW46YWRtaW4="},
    }[how]
    answer = requests.post(f"{stack.url}/admin/offerers/x/validate", headers=headers, timeout=10)
    assert answer.status_code == 401
    assert answer.json()["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("email", "method", "path", "status"),
    [
        ("jeune@passculture.local", "GET", "/pro/bookings", 403),
        ("libraire@librairie-marais.example", "POST", "/admin/catalogue", 403),
        ("libraire@librairie-marais.example", "GET", "/me", 403),
        ("admin@passculture.local", "POST", "/bookings", 403),
        # let in
        ("admin@passculture.local", "POST", "/admin/offerers/unknown/validate", 404),
        ("jeune@passculture.local", "GET", "/me", 200),
        ("jeune@passculture.local", "POST", "/bookings", 404),  # let in: no such stock
    ],
)
def test_groups_decide_who_gets_in(stack: RunningStack, email: str, method: str, path: str, status: int) -> None:
    body = {"stockId": "unknown.stock"} if path == "/bookings" else None
    answer = requests.request(method, f"{stack.url}{path}", json=body, headers=auth(stack.login(email)), timeout=10)
    assert answer.status_code == status
    if status == 403:
        assert answer.json()["code"] == "FORBIDDEN_GROUP"


def test_the_countermark_api_goes_through_the_projects_authorizer(stack: RunningStack) -> None:
    url = f"{stack.url}/v2/bookings/token/ABCDEF"
    pro = requests.get(url, headers=auth(stack.login("libraire@librairie-marais.example")), timeout=10)
    assert pro.status_code == 404  # let in by the authorizer: no such countermark
    young = requests.get(url, headers=auth(stack.login("jeune@passculture.local")), timeout=10)
    assert young.status_code == 403
    assert requests.get(url, headers=auth("pk_unknown_key"), timeout=10).status_code == 401
    assert requests.get(url, timeout=10).status_code == 401


def test_unknown_routes_and_wrong_methods(stack: RunningStack) -> None:
    assert requests.get(f"{stack.url}/nope", timeout=10).status_code == 404
    wrong = requests.delete(f"{stack.url}/health", timeout=10)
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "METHOD_NOT_ALLOWED"


def test_jobs_run_now_from_their_schedule(stack: RunningStack) -> None:
    answer = requests.post(f"{stack.url}/_local/jobs/payouts", json={"time": "2026-11-16T02:00:00+01:00"}, timeout=30)
    assert answer.status_code == 200, answer.text  # the job's report: the batch of the period that just ended
    assert (answer.json()["job"], answer.json()["periodStart"]) == ("payouts", "2026-11-01")
    assert requests.post(f"{stack.url}/_local/jobs/nope", json={}, timeout=10).status_code == 404
    naive = requests.post(f"{stack.url}/_local/jobs/payouts", json={"time": "2026-11-16T02:00:00"}, timeout=10)
    assert naive.status_code == 400


def test_the_outbox_shows_what_ses_sent(stack: RunningStack) -> None:
    message = EmailMessage()
    message["From"] = "no-reply@passculture.example"
    message["To"] = "contact@librairie-marais.example"
    message["Reply-To"] = "jeune@passculture.local"
    message["Subject"] = "Nouvelle réservation"
    message.set_content("Contremarque ABCDEF")
    message.add_alternative("<p>Contremarque <b>ABCDEF</b></p>", subtype="html")
    ses = stack.aws_client("ses")
    ses.send_raw_email(RawMessage={"Data": message.as_bytes()})
    items = requests.get(f"{stack.url}/_local/outbox", timeout=10).json()["items"]
    sent = [item for item in items if item["subject"] == "Nouvelle réservation"]
    assert len(sent) == 1
    assert sent[0]["to"] == "contact@librairie-marais.example"
    assert sent[0]["replyTo"] == "jeune@passculture.local"
    assert "ABCDEF" in sent[0]["text"]
    assert "<b>ABCDEF</b>" in sent[0]["html"]


def test_files_written_by_jobs_are_served(stack: RunningStack) -> None:
    s3 = stack.aws_client("s3")
    bucket = "passculture-local-filesbucket"
    s3.put_object(Bucket=bucket, Key="payouts/2026-11-16/details.csv", Body=b"a;b\n", ContentType="text/csv")
    answer = requests.get(f"{stack.url}/_local/files/payouts/2026-11-16/details.csv", timeout=10)
    assert answer.status_code == 200
    assert answer.content == b"a;b\n"
    assert answer.headers["Content-Type"] == "text/csv"
    assert requests.get(f"{stack.url}/_local/files/payouts/none.csv", timeout=10).status_code == 404


def test_each_function_runs_in_its_own_process_with_its_own_log(stack: RunningStack) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not (stack.log_dir / "PlatformApiFunction.log").exists():
        time.sleep(0.1)
    logs = {path.stem for path in stack.log_dir.glob("*.log")}
    assert logs == {f.logical_id for f in functions(load_template())}


def test_concurrent_requests_never_see_each_others_identity(stack: RunningStack) -> None:
    """A Lambda environment serves one request at a time: module-level state (Powertools' current event) must not
    leak between concurrent requests. Beneficiary and pro requests interleaved must each get their own answer."""
    young, pro = stack.login("jeune@passculture.local"), stack.login("libraire@librairie-marais.example")

    def me(token: str) -> tuple[str, int]:
        return token, requests.get(f"{stack.url}/me", headers=auth(token), timeout=30).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(me, [young, pro] * 20))
    assert all(status == (200 if token == young else 403) for token, status in answers)


# -- HTTP as API Gateway speaks it -----------------------------------------------------------------------------
def raw_request(stack: RunningStack, data: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Sends bytes as they are (no client library tidying them up); the status, header lines and body."""
    host, port = stack.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(data)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    assert received, f"the connection was dropped without an answer to {data[:60]!r}"
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = [(name.strip(), value.strip()) for name, _, value in (line.partition(":") for line in lines)]
    return int(status_line.split()[1]), headers, body


def test_a_function_answer_carries_one_content_type_never_a_python_list(stack: RunningStack) -> None:
    status, headers, body = raw_request(stack, b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert status == 200
    assert [value for name, value in headers if name.lower() == "content-type"] == ["application/json"]
    assert not any("[" in value for _, value in headers)
    assert json.loads(body) == {"status": "ok"}


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "BREW"])
def test_methods_api_gateway_cannot_route_answer_405_json(stack: RunningStack, method: str) -> None:
    status, headers, body = raw_request(stack, f"{method} /health HTTP/1.1\r\nConnection: close\r\n\r\n".encode())
    assert status == 405
    assert dict(headers)["Content-Type"] == "application/json"
    error = json.loads(body)
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    "key",
    ["%00", "..", "a/%2e%2e/b", "%2e%2e/%2e%2e/etc/passwd", "%ff%fe", "%C3%28", "a" * 5000, "a//b", "", "%0d%0aX:%20y"],
)
def test_weird_file_keys_are_404(stack: RunningStack, key: str) -> None:
    status, _, body = raw_request(stack, f"GET /_local/files/{key} HTTP/1.1\r\nConnection: close\r\n\r\n".encode())
    assert status == 404
    assert json.loads(body)["code"] == "NOT_FOUND"


def test_a_malformed_request_gets_a_400_not_a_dropped_connection(stack: RunningStack) -> None:
    for request in (b"NONSENSE\r\n\r\n", b"POST /_local/login HTTP/1.1\r\nContent-Length: lots\r\n\r\n"):
        status, _, body = raw_request(stack, request)
        assert status == 400
        assert json.loads(body)["code"] == "BAD_REQUEST"


# -- /docs with no internet ------------------------------------------------------------------------------------
def test_the_docs_page_and_its_assets_are_served_locally(stack: RunningStack) -> None:
    page = requests.get(f"{stack.url}/docs", timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page.text, re.IGNORECASE), "an external host"
    referenced = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert {"/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js"} <= set(referenced)
    expected_types = {".css": "text/css", ".js": "text/javascript", ".png": "image/png"}
    for path in referenced:
        asset = requests.get(f"{stack.url}{path}", timeout=10)
        assert asset.status_code == 200, path
        assert asset.headers["Content-Type"].startswith(expected_types[Path(path).suffix]), path
        assert len(asset.content) > 0
    initializer = requests.get(f"{stack.url}/docs/swagger-initializer.js", timeout=10).text
    assert "validatorUrl: null" in initializer  # else Swagger UI calls validator.swagger.io
    assert "SwaggerUIBundle" in requests.get(f"{stack.url}/docs/swagger-ui-bundle.js", timeout=10).text
    assert requests.get(f"{stack.url}/docs/nope.js", timeout=10).status_code == 404


def test_the_docs_get_the_merged_document_as_openapi_30(stack: RunningStack) -> None:
    original = requests.get(f"{stack.url}/openapi.json", timeout=30).json()
    for_docs = requests.get(f"{stack.url}/docs/openapi.json", timeout=30).json()
    assert original["openapi"].startswith("3.1")
    assert for_docs["openapi"] == "3.0.3"  # what Swagger UI 4 reads
    assert set(for_docs["paths"]) == set(original["paths"])
    assert '{"type": "null"}' not in json.dumps(for_docs)
    validate(for_docs)  # a valid OpenAPI 3.0 document


# -- the outbox, read in time proportional to what is asked ----------------------------------------------------
def test_the_outbox_takes_limit_since_and_to(stack: RunningStack) -> None:
    ses = stack.aws_client("ses")
    to = f"outbox-{uuid.uuid4().hex[:8]}@example.org"
    before = requests.get(f"{stack.url}/_local/outbox", params={"limit": 1}, timeout=10).json()["items"]
    since = datetime.now(UTC).isoformat()
    for n in range(3):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "no-reply@passculture.example", to, f"Filtre {n}"
        message.set_content(f"numéro {n}")
        ses.send_raw_email(RawMessage={"Data": message.as_bytes()})

    def outbox(**params: object) -> requests.Response:
        return requests.get(f"{stack.url}/_local/outbox", params=params, timeout=10)  # type: ignore[arg-type]

    assert [item["subject"] for item in outbox(to=to).json()["items"]] == ["Filtre 0", "Filtre 1", "Filtre 2"]
    assert [item["subject"] for item in outbox(to=to, limit=2).json()["items"]] == ["Filtre 1", "Filtre 2"]
    assert [item["subject"] for item in outbox(since=since, limit=1000).json()["items"]][-3:] == [
        "Filtre 0",
        "Filtre 1",
        "Filtre 2",
    ]
    newest = outbox(limit=1).json()["items"]
    assert len(newest) == 1 and newest != before and newest[0]["to"] == to
    assert outbox(to=to, since=datetime.now(UTC).isoformat()).json()["items"] == []
    unencoded = requests.get(f"{stack.url}/_local/outbox?to={to}&since={since}", timeout=10)  # "+00:00" as is
    assert len(unencoded.json()["items"]) == 3
    for bad in ({"limit": 0}, {"limit": 1001}, {"limit": "many"}, {"since": "yesterday"}, {"since": "2026-11-23"}):
        answer = outbox(**bad)
        assert answer.status_code == 400, bad
        assert answer.json()["code"] == "BAD_REQUEST"


def test_the_portals_browser_may_call_the_api_and_only_from_its_origin(stack: RunningStack) -> None:
    """The preflight is answered by the gateway without an authorizer (SAM `Cors`); the function's answers say which
    origin may read them (PORTAL_ORIGIN)."""
    origin = stack.url  # the local stack serves the portal itself (/pro/): PortalOrigin is its own origin
    preflight = requests.options(
        f"{stack.url}/bookings",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type,idempotency-key"},
        timeout=10,
    )  # fmt: skip
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]
    token = stack.login("jeune@passculture.local")
    answer = requests.get(f"{stack.url}/me/bookings", headers={"Authorization": f"Bearer {token}", "Origin": origin},
                          timeout=10)  # fmt: skip
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == origin
    elsewhere = requests.get(f"{stack.url}/me/bookings", timeout=10,
                             headers={"Authorization": f"Bearer {token}", "Origin": "https://evil.example"})  # fmt: skip
    assert "Access-Control-Allow-Origin" not in elsewhere.headers
