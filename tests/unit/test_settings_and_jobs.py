from datetime import UTC, datetime

import pytest

from pass_culture.errors import BadRequest
from pass_culture.jobs import parse_job_event
from pass_culture.settings import Settings, SettingsError


def test_settings_come_from_the_environment() -> None:
    settings = Settings.from_env({"TABLE_NAME": "passculture-Table", "STAGE": "prod", "UNRELATED": "x"})
    assert settings.table_name == "passculture-Table"
    assert settings.stage == "prod"
    assert settings.aws_endpoint_url is None


def test_a_function_without_its_table_refuses_to_start() -> None:
    with pytest.raises(SettingsError, match="TABLE_NAME"):
        Settings.from_env({})


def test_a_job_takes_now_from_its_event() -> None:
    job = parse_job_event({"job": "payouts", "time": "2026-11-16T01:00:00Z"}, expected_job="payouts")
    assert job.clock().now() == datetime(2026, 11, 16, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "event",
    [
        {"job": "payouts", "time": "2026-11-16T01:00:00"},  # naive
        {"job": "payouts", "time": "<aws.scheduler.scheduled-time>"},  # not filled in
        {"job": "payouts"},
        {"job": "stock-import", "time": "2026-11-16T01:00:00Z"},  # another job's event
    ],
)
def test_bad_job_events_are_refused(event: dict[str, str]) -> None:
    with pytest.raises(BadRequest):
        parse_job_event(event, expected_job="payouts")


def test_a_scheduled_job_runs_as_of_its_event_and_reports() -> None:

    from pass_culture.jobs import JobEvent, scheduled_job
    from tests.events import FakeContext

    seen: list[datetime] = []

    def run(job: JobEvent) -> dict[str, int]:
        seen.append(job.clock().now())
        return {"validated": 3}

    handler = scheduled_job("auto-validate-bookings", run)
    report = handler({"job": "auto-validate-bookings", "time": "2026-11-23T02:00:00Z"}, FakeContext())  # type: ignore[arg-type]
    assert report == {"job": "auto-validate-bookings", "time": "2026-11-23T02:00:00+00:00", "validated": 3}
    assert seen == [datetime(2026, 11, 23, 2, 0, tzinfo=UTC)]
    with pytest.raises(BadRequest):
        handler({"job": "payouts", "time": "2026-11-23T02:00:00Z"}, FakeContext())  # type: ignore[arg-type]
    assert len(seen) == 1


def test_a_function_missing_a_variable_it_needs_fails_its_init_not_its_first_request() -> None:
    """In a Lambda execution environment (AWS_LAMBDA_FUNCTION_NAME set, as Lambda and the local runtime do)."""
    import os
    import subprocess
    import sys

    from infra.local.template import ROOT

    base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers/shared/python")]),
            "TABLE_NAME": "table", "AWS_DEFAULT_REGION": "eu-west-3", "AWS_LAMBDA_FUNCTION_NAME": "PayoutsWorkerFunction",
            "PAYOUTS_QUEUE_URL": "http://q", "FILES_BUCKET": "b", "PAYOUTS_DEBTOR_IBAN": "FR76…", "PAYOUTS_DEBTOR_BIC": "X"}  # fmt: skip

    def init(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", "import functions.payouts_worker.app"]
        return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=60, check=False)

    assert init(base).returncode == 0, init(base).stderr
    missing = init({k: v for k, v in base.items() if k != "PAYOUTS_DEBTOR_IBAN"})
    assert missing.returncode != 0
    assert "SettingsError: missing environment variables: PAYOUTS_DEBTOR_IBAN" in missing.stderr
    outside_lambda = {k: v for k, v in base.items() if k not in ("PAYOUTS_DEBTOR_IBAN", "AWS_LAMBDA_FUNCTION_NAME")}
    assert init(outside_lambda).returncode == 0  # a test or a tool importing the module sets what it uses
