"""The short version of `make fuzz` (issue 9): schemathesis sends a few generated requests to every operation of the
merged OpenAPI document, as each kind of caller, through the local gateway; every answer must be documented (no 5xx,
no undocumented status, bodies and media types as declared). `make fuzz` runs the long version."""

from __future__ import annotations

from infra.fuzz import Options, fuzz
from tests.e2e.conftest import RunningStack

# A fixed seed: the same cases on every run (the fuzz's own users and ids are new each time).
SHORT = Options(max_examples=3, coverage=False, seed=20261123)


def test_every_answer_to_generated_requests_is_documented(stack: RunningStack) -> None:
    report = fuzz(stack.url, SHORT)
    print(report.summary())
    assert report.operations_in_document > 0
    assert len(report.operations) == report.operations_in_document, "every operation of the document is fuzzed"
    assert not report.document_problems
    assert report.server_errors == 0
    assert not report.findings, report.summary()
    assert not report.errors, report.summary()
