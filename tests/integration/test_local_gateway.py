"""The local gateway speaks HTTP as API Gateway does: one header line per value (never a Python list in a header),
no body nor Content-Type on a 204, a JSON 405 for any method a REST API cannot route, a JSON 4xx (never a dropped
connection) for a malformed request, 502 when the function fails and 504 once 29 s (here: less) have passed since
the request arrived, the wait for a free function environment included."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from chalice.config import Config
from chalice.local import LocalDevServer

from infra.local.gateway import LocalApi, request_handler_class
from infra.local.runtime import FunctionError, FunctionPool, IntegrationTimeout
from infra.local.stack import GatewayServer
from infra.local.template import ApiRoute
from tests.integration.test_local_runtime import runtime_function


class FakeFunction:
    """Stands in for a FunctionPool: answers what it is told (a value, or a callable of the event and deadline)."""

    def __init__(self, answer: Any) -> None:
        self.function = SimpleNamespace(logical_id="FakeFunction")
        self._answer = answer

    def invoke(self, event: dict[str, Any], timeout: float | None = None, *, deadline: float | None = None) -> Any:
        return self._answer(event, deadline) if callable(self._answer) else self._answer


def fail(event: dict[str, Any], deadline: float | None) -> Any:
    raise FunctionError({"type": "ValueError", "message": "boom"})


def never_in_time(event: dict[str, Any], deadline: float | None) -> Any:
    raise IntegrationTimeout("too late")


ANSWERS: dict[str, Any] = {
    "/headers": {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "X-Count": 3, "X-Single": "one"},
        "multiValueHeaders": {"Content-Type": ["application/json"], "Set-Cookie": ["a=1", "b=2"]},
        "body": "{}",
    },
    "/no-content": {"statusCode": 204, "headers": {"Content-Type": "application/json"}, "body": "ignored"},
    "/failing": fail,
    "/malformed": {"body": "no status code"},
    "/late": never_in_time,
}


def serve(routes: list[tuple[ApiRoute, Any]], integration_timeout: float = 29.0) -> tuple[str, int, GatewayServer]:
    api = LocalApi(routes, verify_cognito_token=lambda token: None, api_key_authorizer=None)
    api.integration_timeout = integration_timeout
    handler = request_handler_class(api, lambda method, path, headers, body: None)
    server = LocalDevServer(
        api,  # type: ignore[arg-type]
        Config.create(lambda_timeout=30),
        "127.0.0.1",
        0,
        handler_cls=handler,
        server_cls=GatewayServer,
    )
    threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    host, port = server.server.server_address[:2]
    return str(host), int(port), server.server


@pytest.fixture(scope="module")
def gateway() -> Iterator[tuple[str, int]]:
    routes = [(ApiRoute(path, "GET", "NONE"), FakeFunction(answer)) for path, answer in ANSWERS.items()]
    host, port, server = serve(routes)
    yield host, port
    server.shutdown()
    server.server_close()


def raw(gateway: tuple[str, int], data: bytes) -> bytes:
    """Sends bytes as they are; reads until the server closes the connection (or 5 s pass)."""
    with socket.create_connection(gateway, timeout=5) as connection:
        connection.sendall(data)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except TimeoutError:
            pass
    return received


def parse(received: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = [(name.strip(), value.strip()) for name, _, value in (line.partition(":") for line in lines)]
    return int(status_line.split()[1]), headers, body


def values(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key.lower() == name.lower()]


def test_multi_value_headers_are_one_line_per_value_and_never_a_python_list(gateway: tuple[str, int]) -> None:
    status, headers, body = parse(raw(gateway, b"GET /headers HTTP/1.1\r\nConnection: close\r\n\r\n"))
    assert status == 200
    assert values(headers, "Content-Type") == ["application/json"]
    assert values(headers, "Set-Cookie") == ["a=1", "b=2"]
    assert values(headers, "X-Count") == ["3"]
    assert values(headers, "X-Single") == ["one"]
    assert values(headers, "Content-Length") == [str(len(body))]
    assert not any("[" in value for _, value in headers)


def test_a_204_carries_no_body_and_no_content_type_and_the_connection_goes_on(gateway: tuple[str, int]) -> None:
    connection = http.client.HTTPConnection(*gateway, timeout=5)
    connection.request("GET", "/no-content")
    answer = connection.getresponse()
    assert answer.status == 204
    assert answer.getheader("Content-Type") is None
    assert answer.read() == b""
    connection.request("GET", "/headers")  # same connection: nothing was left in it
    again = connection.getresponse()
    assert again.status == 200
    assert again.read() == b"{}"
    connection.close()


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "FOO", "PROPFIND"])
def test_methods_a_rest_api_cannot_route_answer_405_json(gateway: tuple[str, int], method: str) -> None:
    status, headers, body = parse(raw(gateway, f"{method} /headers HTTP/1.1\r\nConnection: close\r\n\r\n".encode()))
    assert status == 405
    assert values(headers, "Content-Type") == ["application/json"]
    assert values(headers, "Allow")
    error = json.loads(body)
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == "METHOD_NOT_ALLOWED"


def test_a_known_route_with_a_wrong_method_says_which_are_allowed(gateway: tuple[str, int]) -> None:
    status, headers, body = parse(raw(gateway, b"DELETE /headers HTTP/1.1\r\nConnection: close\r\n\r\n"))
    assert (status, values(headers, "Allow"), json.loads(body)["code"]) == (405, ["GET"], "METHOD_NOT_ALLOWED")


def test_head_answers_carry_no_body(gateway: tuple[str, int]) -> None:
    status, _, body = parse(raw(gateway, b"HEAD /headers HTTP/1.1\r\nConnection: close\r\n\r\n"))
    assert status == 405
    assert body == b""


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /headers HTTP/1.1 extra\r\n\r\n", 400),
        (b"GET /headers HTTP/9.9\r\n\r\n", 505),
        (b"GET /headers HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
        (b"GET /headers HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400),
        (b"POST /headers HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", 413),
        (b"POST /headers HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
        (b"POST /headers HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"GET /headers HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"GET /h\xffaders HTTP/1.1\r\nConnection: close\r\n\r\n", 404),
    ],
)
def test_malformed_requests_get_a_json_answer_not_a_dropped_connection(
    gateway: tuple[str, int], request_bytes: bytes, status: int
) -> None:
    received = raw(gateway, request_bytes)
    assert received, "the connection was dropped without an answer"
    got, headers, body = parse(received)
    assert got == status
    assert values(headers, "Content-Type") == ["application/json"]
    assert set(json.loads(body)) == {"code", "message", "details"}


def test_a_chunked_body_reaches_the_function(gateway: tuple[str, int]) -> None:
    seen: list[Any] = []

    def echo(event: dict[str, Any], deadline: float | None) -> Any:
        seen.append(event["body"])
        return ANSWERS["/headers"]

    host, port, server = serve([(ApiRoute("/echo", "POST", "NONE"), FakeFunction(echo))])
    try:
        request = (
            b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"
        )
        assert parse(raw((host, port), request))[0] == 200
        assert seen == ["abcd"]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/failing", 502, {"message": "Internal server error"}),
        ("/malformed", 502, {"message": "Internal server error"}),
        ("/late", 504, {"message": "Endpoint request timed out"}),
    ],
)
def test_failures_answer_as_api_gateway_does(gateway: tuple[str, int], path: str, status: int, body: Any) -> None:
    got, _, received = parse(raw(gateway, f"GET {path} HTTP/1.1\r\nConnection: close\r\n\r\n".encode()))
    assert (got, json.loads(received)) == (status, body)


# -- with a real function process ------------------------------------------------------------------------------
@pytest.fixture
def slow_gateway(tmp_path: Path) -> Iterator[Callable[[str], tuple[int, dict[str, str], bytes, float]]]:
    """The gateway in front of a real function process (one environment), with a 1 s integration timeout."""
    pool = FunctionPool(runtime_function(timeout=10), {}, tmp_path / "function.log", max_concurrency=1)
    pool.wait_ready()
    host, port, server = serve([(ApiRoute("/slow", "GET", "NONE"), pool)], integration_timeout=1.0)

    def get(query: str) -> tuple[int, dict[str, str], bytes, float]:
        started = time.monotonic()
        connection = http.client.HTTPConnection(host, port, timeout=20)
        connection.request("GET", f"/slow?{query}")
        answer = connection.getresponse()
        body = answer.read()
        connection.close()
        headers = {name: "|".join(answer.msg.get_all(name) or []) for name in answer.msg}
        return answer.status, headers, body, time.monotonic() - started

    yield get
    server.shutdown()
    server.server_close()
    pool.stop(grace=0.5)


def test_a_function_still_running_at_the_integration_timeout_is_answered_504(
    slow_gateway: Callable[[str], tuple[int, dict[str, str], bytes, float]],
) -> None:
    status, _, body, took = slow_gateway("sleep=3")
    assert (status, json.loads(body)) == (504, {"message": "Endpoint request timed out"})
    assert took < 2.5


def test_the_wait_for_a_free_environment_counts_in_the_integration_timeout(
    slow_gateway: Callable[[str], tuple[int, dict[str, str], bytes, float]],
) -> None:
    first = threading.Thread(target=slow_gateway, args=("sleep=0.9",))
    first.start()  # takes the only environment for 0.9 s: not a timeout
    time.sleep(0.3)
    status, _, body, took = slow_gateway("sleep=0.5")  # 0.6 s waiting + 0.5 s running > 1 s
    first.join()
    assert (status, json.loads(body)) == (504, {"message": "Endpoint request timed out"})
    assert took < 2.0
    assert slow_gateway("sleep=0")[0] == 200


def test_a_real_functions_204_and_multi_value_headers(
    slow_gateway: Callable[[str], tuple[int, dict[str, str], bytes, float]],
) -> None:
    status, headers, body, _ = slow_gateway("status=204")
    assert (status, body) == (204, b"")
    assert "Content-Type" not in headers
    status, headers, body, _ = slow_gateway("status=200")
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Seen"] == "a|b"  # two lines


@pytest.mark.parametrize(("message", "status", "code"), [("Unauthorized", 401, "UNAUTHENTICATED"),
                                                         ("Table throttled", 503, "SERVICE_UNAVAILABLE")])  # fmt: skip
def test_an_authorizer_failure_answers_as_api_gateway_does(message: str, status: int, code: str) -> None:
    """ "Unauthorized" from the Lambda authorizer is a 401; any other failure is API Gateway's AUTHORIZER_FAILURE
    (template.yaml: 503 with Retry-After), never a 401 that would send the venue's software to re-authenticate."""
    import time

    def refuse(event: dict[str, Any], deadline: float | None) -> Any:
        raise FunctionError({"type": "PermissionError", "message": message})

    route = ApiRoute(path="/v2/bookings/token/{token}", method="GET", authorizer="ApiKeyAuthorizer")
    function: Any = FakeFunction({"statusCode": 200, "body": "{}"})
    authorizer: Any = FakeFunction(refuse)
    api = LocalApi([(route, function)], verify_cognito_token=lambda token: None, api_key_authorizer=authorizer)
    answer = api.handle("GET", "/v2/bookings/token/ABCDEF", {"Authorization": "Bearer pck_x"}, None, time.monotonic())
    assert answer["statusCode"] == status
    assert json.loads(answer["body"])["code"] == code
    assert (answer["headers"].get("Retry-After") == "1") == (status == 503)
