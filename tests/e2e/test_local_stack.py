"""Through the local gateway over HTTP, as the app, the pro portal and venue software would call it."""

from __future__ import annotations

import base64
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

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
    assert answer.status_code == 501  # the payouts job checks its event, then says it is not built yet
    assert answer.json()["code"] == "NOT_IMPLEMENTED"
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
