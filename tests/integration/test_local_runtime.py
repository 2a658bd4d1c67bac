"""The local Lambda runtime enforces what Lambda enforces: a function's Timeout (the invocation is answered as a
timeout and its environment replaced), a caller's deadline that counts the wait for a free environment (API Gateway's
29 s), environments that die are replaced, and stopping does not wait on a busy environment for long."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infra.local.runtime import FunctionError, FunctionPool, FunctionTimeout, IntegrationTimeout
from infra.local.template import Function

PoolOf = Callable[..., FunctionPool]


def runtime_function(timeout: int) -> Function:
    return Function(
        logical_id="RuntimeTestFunction",
        code_uri="tests/integration",
        handler="runtime_handlers.lambda_handler",
        timeout=timeout,
        raw_environment={},
        routes=(),
        schedules=(),
        stream_events=(),
        queue_events=(),
    )


@pytest.fixture
def pool_of(tmp_path: Path) -> Iterator[PoolOf]:
    pools: list[FunctionPool] = []

    def make(timeout: int = 1, max_concurrency: int = 2) -> FunctionPool:
        pool = FunctionPool(runtime_function(timeout), {}, tmp_path / "function.log", max_concurrency=max_concurrency)
        pool.wait_ready()
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.stop(grace=0.5)


def test_an_invocation_past_the_functions_timeout_is_a_timeout_and_the_environment_is_replaced(
    pool_of: PoolOf, tmp_path: Path
) -> None:
    pool: FunctionPool = pool_of(timeout=1)
    first_pid = pool.invoke({})["pid"]
    started = time.monotonic()
    with pytest.raises(FunctionTimeout) as timed_out:
        pool.invoke({"action": "sleep", "seconds": 30})
    assert 0.9 < time.monotonic() - started < 5
    assert timed_out.value.message == "Task timed out after 1.00 seconds"
    assert isinstance(timed_out.value, FunctionError)  # the gateway answers it as any function error: 502
    answer = pool.invoke({})
    assert answer["pid"] != first_pid  # a fresh environment: the timed-out one was killed
    assert 0 < answer["remainingMs"] <= 1000
    assert pool.environments == 1
    assert "Task timed out after 1.00 seconds" in (tmp_path / "function.log").read_text()


def test_the_callers_deadline_counts_the_wait_for_a_free_environment(pool_of: PoolOf) -> None:
    pool: FunctionPool = pool_of(timeout=10, max_concurrency=1)
    busy: list[dict[str, object]] = []
    holder = threading.Thread(target=lambda: busy.append(pool.invoke({"action": "sleep", "seconds": 2})))
    holder.start()
    time.sleep(0.3)  # the only environment is busy
    started = time.monotonic()
    with pytest.raises(IntegrationTimeout):
        pool.invoke({}, deadline=time.monotonic() + 0.5)
    assert time.monotonic() - started < 1.5
    holder.join(10)
    assert busy and "pid" in busy[0]  # the running invocation was not disturbed
    assert "pid" in pool.invoke({}, deadline=time.monotonic() + 5)


def test_a_deadline_passing_while_the_function_runs_leaves_it_running_to_its_end(pool_of: PoolOf) -> None:
    """API Gateway gives up at 29 s, Lambda does not: the invocation ends (and may commit), then the environment
    serves again."""
    pool: FunctionPool = pool_of(timeout=10, max_concurrency=1)
    pid = pool.invoke({})["pid"]
    with pytest.raises(IntegrationTimeout):
        pool.invoke({"action": "sleep", "seconds": 1}, deadline=time.monotonic() + 0.2)
    assert pool.invoke({}, deadline=time.monotonic() + 5)["pid"] == pid  # waited for it, same environment


def test_an_environment_that_dies_is_replaced(pool_of: PoolOf) -> None:
    pool: FunctionPool = pool_of(timeout=10)
    pid = pool.invoke({})["pid"]
    with pytest.raises(FunctionError) as died:
        pool.invoke({"action": "exit"})
    assert died.value.type == "Runtime.ExitError"
    assert pool.invoke({})["pid"] != pid
    with pytest.raises(FunctionError) as raised:
        pool.invoke({"action": "raise"})
    assert (raised.value.type, raised.value.message) == ("ValueError", "told to fail")


def test_stopping_does_not_wait_for_a_busy_environment_past_the_grace(pool_of: PoolOf) -> None:
    pool: FunctionPool = pool_of(timeout=30)
    ended: list[BaseException] = []

    def busy() -> None:
        try:
            pool.invoke({"action": "sleep", "seconds": 20})
        except FunctionError as error:
            ended.append(error)

    worker = threading.Thread(target=busy, daemon=True)
    worker.start()
    time.sleep(0.3)
    started = time.monotonic()
    pool.stop(grace=0.5)
    assert time.monotonic() - started < 2
    worker.join(5)
    assert len(ended) == 1  # the busy invocation ended (killed), it did not hang
    with pytest.raises(FunctionError):
        pool.invoke({})
