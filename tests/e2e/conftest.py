"""The local stack, started as `make run` starts it, on a free port; tests talk to it over HTTP only."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from infra.local import launcher
from tests.e2e import iam_grants, log_privacy

ROOT = Path(__file__).resolve().parents[2]
E2E = Path(__file__).resolve().parent
LAUNCHED_LOG_DIRS: list[Path] = []  # every local stack of the run: their IAM decisions are compared at the end
PASSWORD = "Culture-Locale-2026"


@dataclass(frozen=True)
class RunningStack:
    url: str
    aws_endpoint: str
    log_dir: Path
    output: list[str]

    def aws_client(self, service: str) -> Any:
        """A boto3 client of the stack's embedded AWS (moto's fixed test credentials)."""
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.aws_endpoint,
            region_name="eu-west-3",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def set_password(self, email: str, password: str) -> None:
        """What a young person does with Cognito's invitation after an admin registered them."""
        cognito = self.aws_client("cognito-idp")
        pool = cognito.list_user_pools(MaxResults=5)["UserPools"][0]["Id"]
        cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)

    def login(self, email: str, password: str = PASSWORD) -> str:
        answer = requests.post(f"{self.url}/_local/login", json={"email": email, "password": password}, timeout=10)
        answer.raise_for_status()
        return str(answer.json()["idToken"])


def launch(log_dir: Path, *arguments: str) -> tuple[subprocess.Popen[str], RunningStack]:
    """Starts `python -m infra.local` (what `make run` runs) on a free port; returns once its banner is out."""
    LAUNCHED_LOG_DIRS.append(log_dir)
    try:
        launched = launcher.launch(log_dir, *arguments, ready_within=120)
    except RuntimeError as error:
        pytest.fail(str(error))
    running = RunningStack(launched.url, launched.aws_endpoint, log_dir, launched.output)
    return launched.process, running


@contextmanager
def local_stack(log_dir: Path) -> Iterator[RunningStack]:
    """A local stack for the time of the block, stopped as Ctrl-C stops it: it must stop cleanly, every call of its
    functions granted by their roles."""
    process, running = launch(log_dir)
    try:
        yield running
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C does
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0, "".join(running.output)
    assert not iam_grants.denied(iam_grants.read_calls([running.log_dir]))


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with local_stack(tmp_path_factory.mktemp("logs")) as running:
        yield running


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Every call granted and no personal data in any log line (always), every grant used (when the whole e2e suite
    ran and passed: a partial run makes fewer calls): a finding fails the run."""
    calls = iam_grants.read_calls(LAUNCHED_LOG_DIRS)
    problems = iam_grants.denied(calls) + log_privacy.leaks(LAUNCHED_LOG_DIRS)
    options = session.config.option
    whole_suite = not options.keyword and not options.markexpr and not options.lf and not options.deselect
    whole_suite = whole_suite and any(
        E2E.is_relative_to(Path(argument).resolve()) for argument in session.config.args or [str(ROOT)]
    )
    if whole_suite and exitstatus == pytest.ExitCode.OK and LAUNCHED_LOG_DIRS:
        problems += iam_grants.unused(LAUNCHED_LOG_DIRS)
    if problems:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"the functions' calls, roles and logs ({len(problems)} problems):", red=True)
            for problem in problems:
                reporter.write_line(f"  {problem}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
