"""Logs, metrics and traces, the same way in every function (Powertools).

- Logger: JSON lines; the correlation id is the API Gateway request id for the API, the record's id for a stream or
  SQS record (`correlate`), Lambda's request id for a job; ids of what is handled (`booking_id`, `offerer_id`…) are
  keys of the line, never in its text.
- No personal data and no secret in any log line: every record of every logger (ours, Powertools', botocore's, the
  runtime's) passes through `RedactPersonalData` before it is written — email addresses, IBANs, JWTs, API keys,
  phone numbers, names in pydantic's `input_value` — including exception texts and tracebacks (SES's refusals list
  recipients). A test reads every log line the e2e run wrote and fails on any of them.
- Metrics: CloudWatch EMF, namespace `PassCulture`, one dimension `service`; `count(name)` anywhere, flushed at the end
  of each invocation by `entry`.
- Tracer: X-Ray. Lambda's active tracing records every invocation; the SDK (aws_xray_sdk, ~230 ms to import with the
  botocore session it builds) is loaded when the first AWS client is built (`pass_culture.aws`) and patches botocore
  then, so each AWS call is a subsegment. Never at import: a function's init stays within its budget, and where tracing
  is off (locally, POWERTOOLS_TRACE_DISABLED) the SDK is not loaded at all.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = "PassCulture"
API = correlation_paths.API_GATEWAY_REST

# What must never be written, and what replaces it. Order matters: a JWT before anything that looks like its parts.
REDACTIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*"), "[jwt]"),
    (re.compile(r"pck_[\w-]{10,}"), "[api-key]"),
    (re.compile(r"(?i)\b(basic|bearer)\s+[\w.~+/=-]{8,}"), r"\1 [credentials]"),
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    (re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"), "[iban]"),
    (re.compile(r"(?<![\w.])(?:\+\d{2}[ .]?|0)[1-9](?:[ .]?\d{2}){4}(?!\w)"), "[phone]"),
    # pydantic's validation errors quote what was sent: a name, an address, a password
    (re.compile(r"input_value=('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^,\]\s]+)"), "input_value=[redacted]"),
    (re.compile(r"'input': ('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"), "'input': [redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    return value


class RedactPersonalData(logging.Filter):
    """Rewrites a record before any handler formats it: its message, its exception, and its extra keys."""

    STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and record.exc_info[1] is not None:
            # kept for formatters that format it themselves (RedactingFormatter); the others write exc_text
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        for name, value in list(vars(record).items()):
            if name not in self.STANDARD:
                setattr(record, name, _redacted(value))
        return True


REDACTION = RedactPersonalData()


def install_redaction() -> None:
    """On every handler that exists (the runtime's on the root logger, Powertools' own): records from any logger,
    propagated or not, are filtered at the handler that writes them."""
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict))]
    for each in loggers:
        for handler in getattr(each, "handlers", []):
            if REDACTION not in handler.filters:
                handler.addFilter(REDACTION)


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON lines, the exception and its traceback formatted from the record's exc_info and redacted."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return redact(super().formatException(ei))


logger = Logger(logger_formatter=RedactingFormatter(serialize_stacktrace=False))  # the redacted traceback only
metrics = Metrics(namespace=NAMESPACE)
# An invocation that counted nothing (a look-up, a health check) writes no metrics: not a thing to warn about.
warnings.filterwarnings("ignore", message="No application metrics to publish")
install_redaction()
_patched: list[bool] = []


def trace_aws_calls() -> None:
    """Loads X-Ray's SDK and patches botocore, once, with the first AWS client; nothing where tracing is off."""
    if _patched or os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true"):
        return
    _patched.append(True)
    from aws_lambda_powertools import Tracer

    Tracer(auto_patch=False).patch(["botocore"])


def count(name: str, value: int = 1) -> None:
    """One more `name` in this invocation's metrics (bookings, cancellations, validations, emails, imports…)."""
    if value:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def correlate(correlation_id: str, **keys: Any) -> None:
    """The record being handled: its id correlates the lines, the ids of what it is about are keys."""
    logger.set_correlation_id(correlation_id)
    logger.append_keys(**keys)


Handler = Callable[[dict[str, Any], Any], Any]


def entry(correlation_id_path: str | None = None, *, log_event: bool = False) -> Callable[[Handler], Handler]:
    """A Lambda handler, observed: its lines carry the context and the correlation id, its metrics are flushed at
    the end of the invocation (none written when there are none). Its trace is Lambda's (active tracing)."""

    def wrap(handler: Handler) -> Handler:
        measured = metrics.log_metrics(handler, raise_on_empty_metrics=False)
        observed: Handler = logger.inject_lambda_context(
            measured, correlation_id_path=correlation_id_path, log_event=log_event, clear_state=True
        )
        return observed

    return wrap
