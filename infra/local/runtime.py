"""A local Lambda runtime. As in AWS, an execution environment (here: a process with the function's own environment
and module state) handles ONE invocation at a time; concurrency comes from more environments (`FunctionPool`).
Handlers may therefore keep per-request state at module level (Powertools' resolver does). The parent sends events
as JSON lines on stdin and reads answers from a private pipe (the function's own output goes to its log file).

Run as `python -m infra.local.runtime <module> <handler> <function-name> <timeout-seconds>`.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import Future
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from infra.local.template import ROOT, Function

SHARED_LAYER = ROOT / "layers" / "shared" / "python"


class LambdaContext:
    """The attributes of the Lambda context object that code (Powertools) reads."""

    def __init__(self, function_name: str, timeout_seconds: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:eu-west-3:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FunctionError(Exception):
    """The function raised: its error type and message, and the contract's status/body for domain errors."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('type')}: {error.get('message')}")
        self.type = str(error.get("type"))
        self.message = str(error.get("message"))
        self.status: int | None = error.get("status")
        self.body: dict[str, Any] | None = error.get("body")


class FunctionTimeout(FunctionError):
    """The invocation ran past the function's Timeout: as Lambda does, it is answered as an error ("Task timed out")
    and the execution environment is thrown away (the next invocation gets a fresh one)."""

    def __init__(self, seconds: float) -> None:
        super().__init__({"type": "Sandbox.Timedout", "message": f"Task timed out after {seconds:.2f} seconds"})


class IntegrationTimeout(Exception):
    """The caller's deadline (API Gateway's 29 s integration timeout) passed before the function answered, whether
    the request was still waiting for a free environment or the function was still running. The invocation itself
    goes on until it ends or hits the function's own timeout, as it does in AWS."""


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


class FunctionProcess:
    """The parent's handle on one function's runtime process (one execution environment)."""

    def __init__(self, function: Function, environment: dict[str, str], log_path: Path) -> None:
        self.function = function
        self._log = log_path.open("ab")
        env = {**environment, "PYTHONPATH": os.pathsep.join([str(ROOT), str(SHARED_LAYER)]), "PYTHONUNBUFFERED": "1"}
        # What Lambda sets in every execution environment (the code checks its settings at init when it is there)
        env.update(AWS_LAMBDA_FUNCTION_NAME=function.logical_id, AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
                   AWS_LAMBDA_FUNCTION_MEMORY_SIZE="512", AWS_EXECUTION_ENV="AWS_Lambda_python3.11")  # fmt: skip
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "infra.local.runtime",
                function.module_name,
                function.handler_name,
                function.logical_id,
                str(function.timeout),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
            cwd=ROOT,
            start_new_session=False,
        )
        self._pending: dict[int, Future[Any]] = {}
        self._lock = threading.Lock()
        self._next_id = 0
        self._closed = False  # stopping, stopped or killed: takes no more invocations
        self.ready: Future[Any] = Future()
        threading.Thread(target=self._read_answers, name=f"{function.logical_id}-answers", daemon=True).start()

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return not self._closed and self._process.poll() is None

    def wait_ready(self, timeout: float = 60) -> float:
        """Blocks until the module is imported; returns its import + init time in ms."""
        return float(self.ready.result(timeout=timeout)["initMs"])

    def invoke(self, event: dict[str, Any], timeout: float | None = None) -> Any:
        return self.submit({"op": "invoke", "event": event}, timeout or self.function.timeout).result()

    def openapi(self) -> dict[str, Any] | None:
        answer = self.submit({"op": "openapi"}, 30).result()
        return answer if isinstance(answer, dict) else None

    def submit(self, request: dict[str, Any], timeout: float) -> Future[Any]:
        """Sends one request; its future ends with the answer, the function's error, or `FunctionTimeout` once
        `timeout` seconds pass (the process is then killed, as Lambda ends a timed-out environment)."""
        future: Future[Any] = Future()
        with self._lock:
            if not self.alive:
                raise FunctionError({"type": "Runtime.ExitError", "message": f"{self.function.logical_id} exited"})
            self._next_id += 1
            request_id = self._next_id
            self._pending[request_id] = future
            line = json.dumps({"id": request_id, **request}, default=_json_default) + "\n"
            try:
                assert self._process.stdin is not None
                self._process.stdin.write(line.encode())
                self._process.stdin.flush()
            except (OSError, ValueError) as error:  # the process died under us
                del self._pending[request_id]
                self._closed = True
                raise FunctionError({"type": "Runtime.ExitError", "message": str(error)}) from error
        timer = threading.Timer(timeout, self._time_out, args=(request_id, timeout))
        timer.daemon = True
        timer.start()
        future.add_done_callback(lambda _: timer.cancel())
        return future

    def _time_out(self, request_id: int, seconds: float) -> None:
        with self._lock:
            future = self._pending.pop(request_id, None)
        if future is None:
            return  # answered meanwhile
        self._log_line(f"Task timed out after {seconds:.2f} seconds: the environment is replaced")
        self.kill()
        future.set_exception(FunctionTimeout(seconds))

    def _log_line(self, text: str) -> None:
        with suppress(OSError, ValueError):
            self._log.write(f"{datetime.now(UTC).isoformat()} {text}\n".encode())
            self._log.flush()

    def _read_answers(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            try:
                answer = json.loads(line)
            except ValueError:
                continue
            if "ready" in answer:
                self.ready.set_result(answer)
                continue
            with self._lock:
                future = self._pending.pop(answer.get("id"), None)
            if future is None:
                continue  # timed out already
            if "error" in answer:
                future.set_exception(FunctionError(answer["error"]))
            else:
                future.set_result(answer.get("result"))
        self._process.wait()
        with self._lock:
            self._closed = True
            pending = list(self._pending.values())
            self._pending.clear()
        exited = f"{self.function.logical_id} exited (see its log)"
        error = FunctionError({"type": "Runtime.ExitError", "message": exited})
        if not self.ready.done():
            self.ready.set_exception(error)
        for future in pending:
            future.set_exception(error)

    # -- stopping ------------------------------------------------------------------------------------------------
    def begin_stop(self) -> None:
        """Closes stdin: the runtime exits once its current invocation (if any) ends."""
        with self._lock:
            self._closed = True
            with suppress(OSError, ValueError):
                assert self._process.stdin is not None
                self._process.stdin.close()

    def finish_stop(self, deadline: float) -> None:
        """Waits for the process until `deadline` (time.monotonic()), then kills it."""
        try:
            self._process.wait(timeout=_remaining(deadline))
        except subprocess.TimeoutExpired:
            self.kill()
            self._process.wait()
        with suppress(OSError):
            self._log.close()

    def stop(self, grace: float = 2.0) -> None:
        self.begin_stop()
        self.finish_stop(time.monotonic() + grace)

    def kill(self) -> None:
        self._closed = True
        with suppress(OSError):
            self._process.kill()


class FunctionPool:
    """A function's execution environments: an idle one takes the invocation; when all are busy a new one starts (a
    cold start), up to `max_concurrency`, past which invocations wait, as with a concurrency limit in AWS. An
    environment whose invocation timed out, or whose process died, is replaced by a fresh one when next needed."""

    def __init__(
        self, function: Function, environment: dict[str, str], log_path: Path, max_concurrency: int = 10
    ) -> None:
        self.function = function
        self._environment = environment
        self._log_path = log_path
        self._max = max_concurrency
        self._idle: list[FunctionProcess] = []
        self._all: list[FunctionProcess] = []
        self._available = threading.Condition()
        self._stopping = False
        self._idle.append(self._spawn())

    def _spawn(self) -> FunctionProcess:
        process = FunctionProcess(self.function, self._environment, self._log_path)
        self._all.append(process)
        return process

    def wait_ready(self, timeout: float = 60) -> float:
        return self._all[0].wait_ready(timeout)

    def _acquire(self, deadline: float | None) -> FunctionProcess:
        with self._available:
            while True:
                if self._stopping:
                    raise FunctionError({"type": "Runtime.Stopping", "message": "the local stack is stopping"})
                while self._idle:
                    process = self._idle.pop()
                    if process.alive:
                        return process
                    self._forget(process)
                if len(self._all) < self._max:
                    process = self._spawn()
                    break
                remaining = _remaining(deadline)
                if remaining == 0:
                    raise IntegrationTimeout(f"no free {self.function.logical_id} environment in time")
                self._available.wait(remaining)
        # A new environment: its cold start counts against the caller's deadline.
        try:
            process.ready.result(timeout=_remaining(deadline) if deadline is not None else 60)
        except TimeoutError as error:
            if deadline is None:
                self._discard(process)
                raise FunctionError({"type": "Runtime.InitError", "message": "init took over 60 s"}) from error
            process.ready.add_done_callback(lambda _: self._release(process))
            raise IntegrationTimeout(f"{self.function.logical_id} still starting") from error
        except FunctionError:
            self._discard(process)
            raise
        return process

    def _forget(self, process: FunctionProcess) -> None:
        """Under the lock: drops a dead environment; a fresh one starts when needed."""
        if process in self._all:
            self._all.remove(process)
        process.kill()

    def _discard(self, process: FunctionProcess) -> None:
        with self._available:
            self._forget(process)
            self._available.notify()

    def _release(self, process: FunctionProcess) -> None:
        with self._available:
            if process.alive and not self._stopping:
                self._idle.append(process)
            else:
                self._forget(process)
            self._available.notify()

    def _run(self, request: dict[str, Any], timeout: float, deadline: float | None) -> Any:
        process = self._acquire(deadline)
        if _remaining(deadline) == 0:  # got an environment only as the caller gave up: do not start what it won't see
            self._release(process)
            raise IntegrationTimeout(f"no free {self.function.logical_id} environment in time")
        try:
            future = process.submit(request, timeout)
        except BaseException:
            self._release(process)
            raise
        future.add_done_callback(lambda _: self._release(process))
        try:
            return future.result(timeout=_remaining(deadline))
        except TimeoutError as error:  # the caller's deadline (a FunctionTimeout is a FunctionError, not this)
            raise IntegrationTimeout(f"{self.function.logical_id} did not answer in time") from error

    def invoke(self, event: dict[str, Any], timeout: float | None = None, *, deadline: float | None = None) -> Any:
        """Runs one invocation. `timeout` overrides the function's Timeout; `deadline` (time.monotonic()) is when the
        caller stops waiting (`IntegrationTimeout`), waiting for a free environment included."""
        return self._run({"op": "invoke", "event": event}, timeout or self.function.timeout, deadline)

    def openapi(self) -> dict[str, Any] | None:
        answer = self._run({"op": "openapi"}, 30, None)
        return answer if isinstance(answer, dict) else None

    @property
    def environments(self) -> int:
        return len(self._all)

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in list(self._all)]

    def begin_stop(self) -> None:
        with self._available:
            self._stopping = True
            self._idle.clear()
            self._available.notify_all()
            processes = list(self._all)
        for process in processes:
            process.begin_stop()

    def finish_stop(self, deadline: float) -> None:
        for process in list(self._all):
            process.finish_stop(deadline)

    def stop(self, grace: float = 2.0) -> None:
        self.begin_stop()
        self.finish_stop(time.monotonic() + grace)

    def kill(self) -> None:
        for process in list(self._all):
            process.kill()


def _json_default(value: Any) -> Any:
    # boto3 parses stream records' ApproximateCreationDateTime; Lambda's events carry epoch seconds.
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _error_of(error: BaseException) -> dict[str, Any]:
    described: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    status, to_body = getattr(error, "status", None), getattr(error, "to_body", None)
    if isinstance(status, int) and callable(to_body):
        described.update(status=status, body=to_body())
    return described


def _serve(module_name: str, handler_name: str, function_name: str, timeout: int) -> None:
    answers: IO[str] = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # the function's own output (logs, prints) goes to its log, never into the answers
    sys.stdout = sys.stderr
    write_lock = threading.Lock()

    def answer(payload: dict[str, Any]) -> None:
        with write_lock:
            answers.write(json.dumps(payload, default=str) + "\n")

    started = time.perf_counter()
    module = importlib.import_module(module_name)
    handler = getattr(module, handler_name)
    answer({"ready": True, "initMs": (time.perf_counter() - started) * 1000})

    def run(request: dict[str, Any]) -> None:
        try:
            if request["op"] == "openapi":
                resolver = getattr(module, "app", None)
                result = json.loads(resolver.get_openapi_json_schema()) if resolver is not None else None
            else:
                result = handler(request["event"], LambdaContext(function_name, timeout))
            answer({"id": request["id"], "result": result})
        except Exception as error:  # a function error is an answer, as Lambda reports it
            import traceback

            traceback.print_exc()
            answer({"id": request["id"], "error": _error_of(error)})

    for line in sys.stdin:  # one invocation at a time, like a Lambda execution environment
        run(json.loads(line))
    # stdin closed: the stack is stopping. Leave at once, as Lambda ends an environment (no interpreter teardown:
    # twelve of them at once took over a second).
    logging.shutdown()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us by closing stdin
    _serve(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
