"""The AWS clients' timeouts and retries keep a stuck call inside the function that makes it (pass_culture/aws.py)."""

from __future__ import annotations

import pytest

from infra.local.template import functions, load_template
from pass_culture.aws import TIMEOUTS, config_for

BACKOFF_CAP = [0, 1, 2, 4, 8]  # botocore standard mode: before attempt n+1, a random wait of at most 2^(n-1) s


def worst_case_seconds(service: str) -> float:
    config = config_for(service)
    attempts = config.retries["total_max_attempts"]
    return float(attempts * (config.connect_timeout + config.read_timeout) + sum(BACKOFF_CAP[:attempts]))


@pytest.fixture(autouse=True)
def in_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """The timeouts AWS gets (the local stack's, with AWS_ENDPOINT_URL set, wait for the embedded AWS's queue)."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def test_a_call_times_out_and_gives_up_before_the_shortest_function_does() -> None:
    shortest = min(function.timeout for function in functions(load_template()))
    assert worst_case_seconds("dynamodb") < shortest
    assert worst_case_seconds("sqs") < shortest
    assert worst_case_seconds("ses") < shortest


def test_s3_calls_are_made_only_by_functions_that_outlast_their_worst_case() -> None:
    """Offers and Counter only presign (no call); the payouts worker writes the files."""
    timeouts = {function.logical_id: function.timeout for function in functions(load_template())}
    assert worst_case_seconds("s3") < timeouts["PayoutsWorkerFunction"]
    assert set(TIMEOUTS) == {"default", "s3"}
