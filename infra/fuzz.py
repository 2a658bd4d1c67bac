"""`make fuzz`: schemathesis against the merged OpenAPI document (`GET /openapi.json`), through the local gateway.

    python -m infra.fuzz --max-examples 25            # starts a local stack on a free port, fuzzes it, stops it
    python -m infra.fuzz --url http://127.0.0.1:3000  # fuzzes a stack already running (`make run`)

The document is the contract: every answer to hostile input (wrong types, huge strings, unicode, missing fields,
unknown ids) must be documented. Four checks run on every answer: no 5xx (`not_a_server_error`), no status the
operation does not declare (`status_code_conformance`), the body matches the declared schema
(`response_schema_conformance`) and the declared media type (`content_type_conformance`).

Each caller fuzzes the operations it is let in (the operation's `security` names them), and knocks briefly on the
others (they must answer a documented 401/403): anonymous, a beneficiary, a pro, an admin and an offerer API key
(`Bearer <key>`). The fuzz builds its own small world through the API (a pro's offerer, venue, offer and stock, a
beneficiary with a booking, API keys): generated ids are used half the time, ids of that world the other half, so
the use cases are reached, not only the gate. It touches nothing else, so it can run against a stack in use.
The local-only routes (`/_local/*`, `/openapi.json`, `/docs`) are not in the document and are not fuzzed.

The local embedded AWS is behind one lock: requests go one at a time (one worker).
"""

from __future__ import annotations

import argparse
import copy
import random
import re
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import requests

from infra.local import launcher

CHECKS = ("not_a_server_error", "status_code_conformance", "response_schema_conformance", "content_type_conformance")
ROLES = ("anonymous", "beneficiary", "pro", "admin", "apiKey")
GROUP_OF_ROLE = {"beneficiary": "beneficiary", "pro": "pro", "admin": "admin"}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
PASSWORD = "Fuzz-Locale-2026"
KNOCK_EXAMPLES = 2  # a caller the operation does not let in: answered 401/403 before anything is read
TIMEOUT = 30


# -- the caller's world --------------------------------------------------------------------------------------------
@dataclass
class World:
    """The callers' tokens (None: anonymous) and ids of the fuzz's own resources, per caller."""

    tokens: dict[str, str | None]
    ids: dict[str, dict[str, list[Any]]]


class Api:
    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = self.session.request(method, f"{self.url}{path}", headers=headers, timeout=TIMEOUT, **kwargs)
        if answer.status_code >= 300:
            raise RuntimeError(f"{method} {path} answered {answer.status_code}: {answer.text[:300]}")
        return answer.json() if answer.content else None

    def user(self, group: str, email: str) -> str:
        body = {"email": email, "password": PASSWORD, "group": group, "firstName": "Fuzz", "lastName": group.title()}
        self.call("POST", "/_local/users", json=body)
        return str(self.call("POST", "/_local/login", json={"email": email, "password": PASSWORD})["idToken"])


def _luhn_completed(digits: str) -> str:
    for check in "0123456789":
        total = 0
        for position, digit in enumerate(reversed(digits + check)):
            value = int(digit) * (2 if position % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return digits + check
    raise AssertionError("unreachable")


def build_world(url: str) -> World:
    """Users of each group, and a small world of their own, made through the API as a client would."""
    api = Api(url)
    run = uuid.uuid4().hex[:10]
    admin = api.user("admin", f"fuzz-{run}-admin@fuzz.example")
    pro = api.user("pro", f"fuzz-{run}-pro@fuzz.example")
    young_email = f"fuzz-{run}-young@fuzz.example"
    young = api.user("beneficiary", young_email)
    today = datetime.now(UTC).date()
    api.call(
        "POST",
        "/beneficiaries",
        admin,
        json={
            "email": young_email,
            "firstName": "Fuzz",
            "lastName": "Jeune",
            "birthDate": date(today.year - 18, 1, 1).isoformat(),
            "phone": "0600000000",
            "postalCode": "75011",
        },
    )
    siren = _luhn_completed(f"{random.randrange(10**7, 10**8)}")  # noqa: S311 - test data
    offerer = api.call("POST", "/offerers", pro, json={"siren": siren, "name": f"Fuzz {run}"})
    api.call("POST", f"/admin/offerers/{offerer['id']}/validate", admin)
    latitude, longitude = 45.7640, 4.8357
    venue = api.call(
        "POST",
        f"/offerers/{offerer['id']}/venues",
        pro,
        json={
            "name": f"Lieu {run}",
            "siret": _luhn_completed(siren + "0001"),
            "address": "1 rue du Fuzz",
            "postalCode": "69001",
            "city": "Lyon",
            "latitude": latitude,
            "longitude": longitude,
            "bookingEmail": f"fuzz-{run}-venue@fuzz.example",
        },
    )
    offer = api.call(
        "POST", "/offers", pro, json={"venueId": venue["id"], "subcategoryId": "ESCAPE_GAME", "name": "Fuzz"}
    )
    stock = api.call("POST", f"/offers/{offer['id']}/stocks", pro, json={"priceCents": 100, "quantity": 1000})
    booking = api.call("POST", "/bookings", young, json={"stockId": stock["id"], "quantity": 1})
    key = api.call("POST", f"/offerers/{offerer['id']}/api-keys", pro)
    spare_key = api.call("POST", f"/offerers/{offerer['id']}/api-keys", pro)
    pro_ids: dict[str, list[Any]] = {
        "offererId": [offerer["id"]],
        "venueId": [venue["id"]],
        "offerId": [offer["id"]],
        "stockId": [stock["id"]],
        "apiKeyId": [spare_key["id"]],
        "token": [booking["token"]],
    }
    return World(
        tokens={"anonymous": None, "beneficiary": young, "pro": pro, "admin": admin, "apiKey": key["apiKey"]},
        ids={
            "anonymous": {
                "offerId": [offer["id"]],
                "lat": [latitude],
                "lon": [longitude],
                "subcategoryId": ["ESCAPE_GAME"],
            },
            "beneficiary": {"bookingId": [booking["id"]], "stockId": [stock["id"]]},
            "pro": pro_ids,
            "apiKey": pro_ids,
            "admin": {"offererId": [offerer["id"]]},
        },
    )


# -- who may call what, from the document -------------------------------------------------------------------------
def operations_of(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def admits(operation: dict[str, Any], role: str) -> bool:
    """Whether the operation lets the caller in, as its `security` says (no requirement: public)."""
    requirements = operation.get("security")
    if not requirements:
        return True
    for requirement in requirements:
        if role == "apiKey" and "apiKey" in requirement:
            return True
        if role in GROUP_OF_ROLE and GROUP_OF_ROLE[role] in requirement.get("cognito", ()):
            return True
    return False


def plan(document: dict[str, Any], role: str) -> tuple[dict[str, Any], set[str]]:
    """The document this caller fuzzes and the operations it only knocks on. Public operations are fuzzed once,
    anonymously (a token changes nothing there)."""
    selected = copy.deepcopy(document)
    selected["paths"] = {}
    knocks: set[str] = set()
    for path, method, operation in operations_of(document):
        public = not operation.get("security")
        if public and role != "anonymous":
            continue
        selected["paths"].setdefault(path, {})[method] = operation
        if not admits(operation, role):
            knocks.add(operation["operationId"])
    return selected, knocks


# -- the run -------------------------------------------------------------------------------------------------------
@dataclass
class Finding:
    check: str
    operation: str
    role: str
    status: int | None
    title: str
    message: str
    reproduce: str


@dataclass
class Report:
    operations_in_document: int = 0
    operations: set[str] = field(default_factory=set)
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    not_implemented: int = 0  # 501 from operations that declare it (their use case is not built yet)
    findings: dict[tuple[str, str, str, int | None], Finding] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    document_problems: list[str] = field(default_factory=list)
    stopped_early: list[str] = field(default_factory=list)
    by_role: dict[str, tuple[int, float]] = field(default_factory=dict)
    seconds: float = 0.0

    def count(self, check: str) -> int:
        return sum(1 for finding in self.findings.values() if finding.check == check)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500) - self.not_implemented

    @property
    def failed(self) -> bool:
        return bool(self.findings or self.errors or self.document_problems or self.server_errors)

    def summary(self) -> str:
        lines = [
            f"operations:            {len(self.operations)} fuzzed of {self.operations_in_document} in the document",
            f"requests:              {self.requests}",
            f"5xx answers:           {self.server_errors} (besides {self.not_implemented} declared 501 from routes "
            "whose use case is not built yet)",
            f"schema mismatches:     {self.count('response_schema_conformance')}",
            f"undocumented statuses: {self.count('status_code_conformance')}",
            f"content-type mismatches: {self.count('content_type_conformance')}",
            f"other errors:          {len(self.errors) + len(self.document_problems)}",
            f"statuses seen:         {dict(sorted(self.statuses.items()))}",
            f"time:                  {self.seconds:.1f} s",
            "by caller:             "
            + ", ".join(f"{role} {n} requests in {t:.0f} s" for role, (n, t) in self.by_role.items()),
        ]
        lines += [f"stopped early:         {reason}" for reason in self.stopped_early]
        for problem in self.document_problems:
            lines.append(f"\nDOCUMENT: {problem}")
        for finding in self.findings.values():
            lines.append(
                f"\nFAILED {finding.check} on {finding.operation} as {finding.role} (status {finding.status}): "
                f"{finding.title}\n  {finding.message.strip()[:600]}\n  reproduce: {finding.reproduce[:1500]}"
            )
        for error in self.errors:
            lines.append(f"\nERROR {error[:1500]}")
        lines.append("\nFAILED" if self.failed else "\nOK: every answer is documented")
        return "\n".join(lines)


@dataclass(frozen=True)
class Options:
    max_examples: int = 25
    coverage: bool = True
    max_time: int | None = None  # at most this many seconds for each caller's run (then it stops early)
    seed: int | None = None
    roles: tuple[str, ...] = ROLES


def check_document(document: dict[str, Any]) -> list[str]:
    """A valid OpenAPI 3.1 document (openapi-spec-validator, when installed)."""
    if document.get("openapi", "").split(".")[:2] != ["3", "1"]:
        return [f"openapi is {document.get('openapi')!r}, not 3.1"]
    try:
        from openapi_spec_validator import validate
    except ImportError:  # pragma: no cover - schemathesis still loads and checks what it uses
        return []
    try:
        validate(document)
    except Exception as error:
        return [f"not a valid OpenAPI 3.1 document: {str(error)[:1000]}"]
    return []


def _operation_config(operation_id: str, *, knock: bool, not_built: bool) -> dict[str, Any]:
    config: dict[str, Any] = {"include-operation-id": operation_id}
    if knock:
        config["generation"] = {"max-examples": KNOCK_EXAMPLES}
        config["phases"] = {"coverage": {"enabled": False}}
    if not_built:  # its use case arrives with a later issue: the contract says 501 until then
        config["checks"] = {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "501"]}}
    return config


def config_for(
    url: str, role: str, world: World, knocks: set[str], not_built: set[str], options: Options, seed: int
) -> dict[str, Any]:
    token = world.tokens[role]
    ids = world.ids.get(role, {})
    config: dict[str, Any] = {
        "seed": seed,
        "base-url": url,
        "workers": 1,
        "suppress-health-check": ["all"],
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "phases": {
            "examples": {"enabled": False},
            "coverage": {"enabled": options.coverage},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
        "generation": {"max-examples": options.max_examples, "mode": "all"},
        # Half the time, an id of the caller's own world: the request reaches the use case, not only the gate.
        "dictionaries": {f"{role}-{name}": {"values": values} for name, values in ids.items()},
        "parameters": {
            f"{location}.{name}": {"dictionary": f"{role}-{name}", "probability": 0.5}
            for name in ids
            for location in ("path", "query", "body")
        },
        "operations": [
            _operation_config(operation_id, knock=operation_id in knocks, not_built=operation_id in not_built)
            for operation_id in sorted(knocks | not_built)
        ],
    }
    if token:
        config["headers"] = {"Authorization": f"Bearer {token}"}
    return config


def run_role(document: dict[str, Any], url: str, role: str, world: World, options: Options, report: Report) -> None:
    import schemathesis
    from schemathesis.engine import events, from_schema

    selected, knocks = plan(document, role)
    if not selected["paths"]:
        return
    declaring_501 = [(f"{m.upper()} {p}", op) for p, m, op in operations_of(selected) if "501" in op["responses"]]
    not_built, not_built_labels = {op["operationId"] for _, op in declaring_501}, {label for label, _ in declaring_501}
    seed = options.seed if options.seed is not None else random.getrandbits(64)
    config = schemathesis.Config.from_dict(config_for(url, role, world, knocks, not_built, options, seed))
    schema = schemathesis.openapi.from_dict(selected, config=config)
    stream = from_schema(schema).execute()
    # A bound, not a target: schemathesis' own `max-time` keeps fuzzing until the time is spent.
    deadline = threading.Timer(options.max_time, stream.stop) if options.max_time else None
    if deadline is not None:
        deadline.daemon = True
        deadline.start()
    try:
        for event in stream:
            if isinstance(event, events.ScenarioFinished):
                _record(event.recorder, role, report, not_built_labels)
            elif isinstance(event, events.NonFatalError):
                report.errors.append(f"{role} {event.label}: {event.info.title}: {event.value!r}")
            elif isinstance(event, events.FatalError):
                report.errors.append(f"{role}: fatal: {event.exception!r}")
            elif isinstance(event, events.EngineFinished) and event.stop_reason.value != "completed":
                timed_out = deadline is not None and deadline.finished.is_set()
                reason = f"time limit of {options.max_time} s" if timed_out else event.stop_reason.value
                report.stopped_early.append(f"{role}: {reason} (seed {seed})")
    finally:
        if deadline is not None:
            deadline.cancel()


def _record(recorder: Any, role: str, report: Report, not_built: set[str]) -> None:
    report.operations.add(recorder.label)
    for case_id, interaction in recorder.interactions.items():
        report.requests += 1
        if interaction.response is not None:
            report.statuses[interaction.response.status_code] += 1
            if interaction.response.status_code == 501 and recorder.label in not_built:
                report.not_implemented += 1
        for check in recorder.checks.get(case_id, []):
            if check.failure_info is None or check.name not in CHECKS:
                continue
            failure = check.failure_info.failure
            status = interaction.response.status_code if interaction.response is not None else None
            key = (check.name, recorder.label, failure.title, status)
            report.findings.setdefault(
                key,
                Finding(
                    check=check.name,
                    operation=recorder.label,
                    role=role,
                    status=status,
                    title=failure.title,
                    message=failure.message,
                    reproduce=_redacted(check.failure_info.code_sample),
                ),
            )


def _redacted(text: str) -> str:
    return re.sub(r"Bearer [A-Za-z0-9._~+/=-]+", "Bearer <token>", text)


def fuzz(url: str, options: Options | None = None) -> Report:
    """Fuzzes the stack answering at `url`; the report says what failed."""
    options = options or Options()
    started = time.perf_counter()
    report = Report()
    document = requests.get(f"{url}/openapi.json", timeout=TIMEOUT).json()
    report.operations_in_document = sum(1 for _ in operations_of(document))
    report.document_problems = check_document(document)
    world = build_world(url)
    for role in options.roles:
        began, requests_before = time.perf_counter(), report.requests
        run_role(document, url, role, world, options, report)
        report.by_role[role] = (report.requests - requests_before, time.perf_counter() - began)
        done, seconds = report.by_role[role]
        print(f"  {role}: {done} requests in {seconds:.0f} s, {len(report.findings)} failures so far", file=sys.stderr)
    report.seconds = time.perf_counter() - started
    return report


# -- a local stack of its own --------------------------------------------------------------------------------------
@contextmanager
def local_stack() -> Iterator[str]:
    """`python -m infra.local` on a free port (as `make run` starts it); stopped as Ctrl-C stops it."""
    log_dir = Path(tempfile.mkdtemp(prefix="fuzz-logs-"))
    stack = launcher.launch(log_dir, "--no-seed")
    try:
        print(f"local stack on {stack.url} (function logs in {log_dir})", flush=True)
        yield stack.url
    finally:
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running local stack (default: start one on a free port)")
    parser.add_argument("--max-examples", type=int, default=25, help="generated cases per operation and caller")
    parser.add_argument("--no-coverage", action="store_true", help="skip the coverage phase (boundary values)")
    parser.add_argument("--max-time", type=int, default=300, help="at most this many seconds for each caller")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--roles", default=",".join(ROLES), help=f"callers, among {', '.join(ROLES)}")
    arguments = parser.parse_args(argv)
    roles = tuple(role.strip() for role in arguments.roles.split(",") if role.strip())
    if unknown := set(roles) - set(ROLES):
        parser.error(f"unknown roles: {sorted(unknown)}")
    options = Options(
        max_examples=arguments.max_examples,
        coverage=not arguments.no_coverage,
        max_time=arguments.max_time,
        seed=arguments.seed,
        roles=roles,
    )
    if arguments.url:
        report = fuzz(arguments.url.rstrip("/"), options)
    else:
        with local_stack() as url:
            report = fuzz(url, options)
    print(report.summary(), flush=True)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
