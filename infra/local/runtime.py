"""A local Lambda runtime. As in AWS, an execution environment (here: a process with the function's own environment
and module state) handles ONE invocation at a time; concurrency comes from more environments (`FunctionPool`).
Handlers may therefore keep per-request state at module level (Powertools' resolver does). The parent sends events
as JSON lines on stdin and reads answers from a private pipe (the function's own output goes to its log file).

Run as `python -m infra.local.runtime <module> <handler> <function-name> <timeout-seconds>`.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import Future
from datetime import datetime
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


class FunctionProcess:
    """The parent's handle on one function's runtime process."""

    def __init__(self, function: Function, environment: dict[str, str], log_path: Path) -> None:
        self.function = function
        self._log = log_path.open("ab")
        env = {**environment, "PYTHONPATH": os.pathsep.join([str(ROOT), str(SHARED_LAYER)]), "PYTHONUNBUFFERED": "1"}
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
        self._ready: Future[Any] = Future()
        threading.Thread(target=self._read_answers, name=f"{function.logical_id}-answers", daemon=True).start()

    def wait_ready(self, timeout: float = 60) -> float:
        """Blocks until the module is imported; returns its import + init time in ms."""
        return float(self._ready.result(timeout=timeout)["initMs"])

    def invoke(self, event: dict[str, Any], timeout: float | None = None) -> Any:
        return self._call({"op": "invoke", "event": event}, timeout or self.function.timeout + 5)

    def openapi(self) -> dict[str, Any] | None:
        answer = self._call({"op": "openapi"}, 30)
        return answer if isinstance(answer, dict) else None

    def _call(self, request: dict[str, Any], timeout: float) -> Any:
        future: Future[Any] = Future()
        with self._lock:
            self._next_id += 1
            request_id = self._next_id
            self._pending[request_id] = future
            assert self._process.stdin is not None
            line = json.dumps({"id": request_id, **request}, default=_json_default) + "\n"
            self._process.stdin.write(line.encode())
            self._process.stdin.flush()
        return future.result(timeout=timeout)

    def _read_answers(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            answer = json.loads(line)
            if "ready" in answer:
                self._ready.set_result(answer)
                continue
            with self._lock:
                future = self._pending.pop(answer["id"])
            if "error" in answer:
                future.set_exception(FunctionError(answer["error"]))
            else:
                future.set_result(answer.get("result"))
        error = RuntimeError(f"{self.function.logical_id} exited (see its log)")
        if not self._ready.done():
            self._ready.set_exception(error)
        with self._lock:
            for future in self._pending.values():
                future.set_exception(error)
            self._pending.clear()

    def stop(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._log.close()


class FunctionPool:
    """A function's execution environments: an idle one takes the invocation; when all are busy a new one starts (a
    cold start), up to `max_concurrency`, past which invocations wait, as with a concurrency limit in AWS."""

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
        self._idle.append(self._spawn())

    def _spawn(self) -> FunctionProcess:
        process = FunctionProcess(self.function, self._environment, self._log_path)
        self._all.append(process)
        return process

    def wait_ready(self, timeout: float = 60) -> float:
        return self._all[0].wait_ready(timeout)

    def _acquire(self) -> FunctionProcess:
        with self._available:
            while not self._idle and len(self._all) >= self._max:
                self._available.wait()
            if self._idle:
                return self._idle.pop()
            process = self._spawn()
        process.wait_ready()
        return process

    def _release(self, process: FunctionProcess) -> None:
        with self._available:
            self._idle.append(process)
            self._available.notify()

    def invoke(self, event: dict[str, Any], timeout: float | None = None) -> Any:
        process = self._acquire()
        try:
            return process.invoke(event, timeout)
        finally:
            self._release(process)

    def openapi(self) -> dict[str, Any] | None:
        process = self._acquire()
        try:
            return process.openapi()
        finally:
            self._release(process)

    @property
    def environments(self) -> int:
        return len(self._all)

    def stop(self) -> None:
        for process in self._all:
            process.stop()


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


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us by closing stdin
    _serve(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
