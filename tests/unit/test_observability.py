"""What the functions log (pass_culture/observability.py): never personal data nor secrets, whatever logs it."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from pass_culture.observability import REDACTION, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("to jeanne.dupont+test@example.org failed", "to [email] failed"),
        ("iban FR76 3000 6000 0112 3456 7890 189 ok", "iban [iban] ok"),
        ("iban FR7630006000011234567890189", "iban [iban]"),
        ("token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl!", "token [jwt]!"),
        ("key pck_2x9Ab-Cd_efGhIjKlMnOp", "key [api-key]"),
        ("Authorization: Basic bGlicmFpcmVAZXhhbXBsZS5vcmc6c2VjcmV0", "Authorization: Basic [credentials]"),
        ("phone +33 6 12 34 56 78 or 0612345678", "phone [phone] or [phone]"),
        ("booking 7f3e9c2a-1b4d venue V-42 at 2026-11-23T10:00:00Z, 1500 cents", None),
    ],
)
def test_personal_data_and_secrets_are_replaced(text: str, expected: str | None) -> None:
    assert redact(text) == (text if expected is None else expected)


def test_pydantic_quotes_what_was_sent_and_the_log_does_not() -> None:
    class Person(BaseModel):
        age: int

    with pytest.raises(ValidationError) as error:
        Person.model_validate({"age": "Jeanne Dupont"})
    assert "Jeanne Dupont" in str(error.value)
    assert "Jeanne Dupont" not in redact(str(error.value))
    assert "Jeanne Dupont" not in redact(str(error.value.errors()))


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("any", logging.ERROR, __file__, 1, message, args or None, None)
    for name, value in extra.items():
        setattr(made, name, value)
    return made


def test_every_part_of_a_record_is_redacted_before_a_handler_writes_it() -> None:
    try:
        raise RuntimeError("Email address is not verified: pro@example.org")
    except RuntimeError:
        import sys

        failed = record("sending to %s failed", "pro@example.org", recipient={"email": "pro@example.org"})
        failed.exc_info = sys.exc_info()
    assert REDACTION.filter(failed)
    written = logging.Formatter("%(message)s %(recipient)s").format(failed)
    assert "pro@example.org" not in written
    assert "sending to [email] failed" in written
    assert "RuntimeError: Email address is not verified: [email]" in written


def test_the_functions_logger_writes_json_without_them() -> None:
    import io

    from pass_culture.observability import logger

    written = io.StringIO()
    previous = logger.registered_handler.setStream(written)  # type: ignore[attr-defined]
    try:
        logger.info("welcome sent to jeanne@example.org", extra={"to": "jeanne@example.org", "booking_id": "b-1"})
    finally:
        logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]
    line = json.loads(written.getvalue().strip().splitlines()[-1])
    assert line["message"] == "welcome sent to [email]"
    assert line["to"] == "[email]"
    assert line["booking_id"] == "b-1"


def test_the_e2e_log_check_finds_what_slipped_through(tmp_path: Any) -> None:
    from tests.e2e import log_privacy

    (tmp_path / "BookingsApiFunction.log").write_text(
        '{"message": "booked", "booking_id": "b-1"}\n{"message": "sent to Jeanne at jeanne@example.org"}\n'
    )
    found = log_privacy.leaks([tmp_path])
    assert [line.split(": ")[1].split(" ")[0] for line in found] == ["name", "email"]
    assert all(line.startswith("BookingsApiFunction.log:2:") for line in found)


def test_the_xray_sdk_is_not_loaded_at_a_functions_init() -> None:
    """aws_xray_sdk costs ~230 ms to import: it comes with the first AWS client (or never, where tracing is off)."""
    import os
    import subprocess
    import sys

    from infra.local.template import ROOT

    probe = (
        "import sys, functions.bookings_api.app\n"
        "print('aws_xray_sdk' in sys.modules)\n"
        "from pass_culture import aws; aws.client('dynamodb')\n"
        "print('aws_xray_sdk' in sys.modules)\n"
    )
    base = {"PATH": os.environ.get("PATH", ""), "TABLE_NAME": "table", "AWS_DEFAULT_REGION": "eu-west-3",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers/shared/python")])}  # fmt: skip

    def loaded(environment: dict[str, str]) -> list[str]:
        run = subprocess.run([sys.executable, "-c", probe], env=environment, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        return run.stdout.split()

    assert loaded(base) == ["False", "True"]  # at init: no; with the first client: yes (tracing on, as in AWS)
    assert loaded({**base, "POWERTOOLS_TRACE_DISABLED": "true"}) == ["False", "False"]


def test_an_unexpected_error_keeps_its_traceback_redacted() -> None:
    import io

    from pass_culture.observability import logger

    written = io.StringIO()
    previous = logger.registered_handler.setStream(written)  # type: ignore[attr-defined]
    try:
        try:
            raise ValueError("refused for jeanne@example.org")
        except ValueError:
            logger.exception("unexpected error")
    finally:
        logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]
    line = json.loads(written.getvalue().strip().splitlines()[-1])
    assert "Traceback" in line["exception"] and "ValueError: refused for [email]" in line["exception"]
    assert "jeanne@example.org" not in written.getvalue()
