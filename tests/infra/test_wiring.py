"""The template and the code agree: every function's handler exists and imports, every `Api` event is a route of
its function (and every route is deployed), every schedule targets a function that exists with a valid cron."""

import importlib
import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from croniter import croniter

from infra.local.template import ROOT, Function, aws_cron_to_croniter, functions, load_template
from pass_culture.settings import get_settings

TEMPLATE = load_template()
FUNCTIONS = functions(TEMPLATE)
API_FUNCTIONS = [f for f in FUNCTIONS if f.routes]


@pytest.fixture(autouse=True)
def function_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "wiring-test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    get_settings.cache_clear()


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.logical_id)
def test_each_handler_module_exists_and_imports(function: Function) -> None:
    assert function.module_path.is_file(), function.module_path
    module = importlib.import_module(function.module_name)
    assert callable(getattr(module, function.handler_name))


@pytest.mark.parametrize("function", API_FUNCTIONS, ids=lambda f: f.logical_id)
def test_each_api_event_is_a_route_of_its_function_and_back(function: Function) -> None:
    module: Any = importlib.import_module(function.module_name)
    document = json.loads(module.app.get_openapi_json_schema())
    served = {(path, method.upper()) for path, operations in document["paths"].items() for method in operations}
    deployed = {(route.path, route.method) for route in function.routes}
    assert deployed == served


def test_no_route_is_deployed_twice() -> None:
    routes = [(route.path, route.method) for f in FUNCTIONS for route in f.routes]
    assert len(routes) == len(set(routes))


def test_every_route_names_an_authorizer_the_api_declares() -> None:
    declared = set(TEMPLATE["Resources"]["RestApi"]["Properties"]["Auth"]["Authorizers"]) | {"NONE"}
    for function in FUNCTIONS:
        for route in function.routes:
            assert route.authorizer in declared, (function.logical_id, route)


def test_every_schedule_targets_an_existing_function_with_a_valid_cron() -> None:
    schedules = [(f, s) for f in FUNCTIONS for s in f.schedules]
    assert {s.input["job"] for _, s in schedules} == {
        "stock-import",
        "expire-bookings",
        "auto-validate-bookings",
        "payouts",
    }
    for function, schedule in schedules:
        assert function.module_path.is_file()
        assert schedule.timezone == "Europe/Paris"
        assert croniter.is_valid(aws_cron_to_croniter(schedule.expression)), schedule.expression
        assert schedule.input["time"] == "<aws.scheduler.scheduled-time>"
    standalone = [r for r in TEMPLATE["Resources"].values() if r["Type"] == "AWS::Scheduler::Schedule"]
    for resource in standalone:
        target = resource["Properties"]["Target"]["Arn"]["Fn::GetAtt"][0]
        assert TEMPLATE["Resources"][target]["Type"] == "AWS::Serverless::Function"


def test_handler_modules_do_not_touch_boto3_or_dynamodb_keys() -> None:
    """Handlers stay thin: AWS clients and key shapes live in the domain package's repositories."""
    for function in FUNCTIONS:
        source = function.module_path.read_text()
        assert "import boto3" not in source, function.logical_id
        assert not re.search(r"[\"'](PK|SK|GSI\dPK)[\"']", source), function.logical_id


def test_the_dependencies_layer_matches_the_lock_file() -> None:
    uv = shlex.split(os.environ.get("UV", "uv"))  # the Makefile says how it reaches uv
    exported = subprocess.run(
        [*uv, "export", "--frozen", "--no-dev", "--no-hashes", "--no-header", "--no-emit-project"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    committed = (Path(ROOT) / "layers" / "dependencies" / "requirements.txt").read_text()
    assert exported.stdout == committed, "run `make requirements` and commit layers/dependencies/requirements.txt"


@pytest.mark.parametrize("function", API_FUNCTIONS, ids=lambda f: f.logical_id)
def test_api_functions_time_out_before_api_gateway_does(function: Function) -> None:
    """API Gateway answers 504 at 29 s while the function goes on (and may commit): a function behind the API must
    give up first, so that its client is told what happened (the local gateway enforces both, as AWS does)."""
    assert function.timeout < 29, f"{function.logical_id}: Timeout {function.timeout} s, API Gateway's limit is 29 s"


def test_the_local_gateways_401_is_the_templates() -> None:
    import json

    from infra.local.gateway import AUTHORIZER_FAILURE_BODY, UNAUTHORIZED_BODY
    from infra.local.template import load_template

    responses = load_template()["Resources"]["RestApi"]["Properties"]["GatewayResponses"]
    assert json.loads(responses["UNAUTHORIZED"]["ResponseTemplates"]["application/json"]) == UNAUTHORIZED_BODY
    failure = responses["AUTHORIZER_FAILURE"]
    assert json.loads(failure["ResponseTemplates"]["application/json"]) == AUTHORIZER_FAILURE_BODY
    assert failure["StatusCode"] == 503 and failure["ResponseParameters"]["Headers"]["Retry-After"] == "'1'"


def test_the_tests_run_on_the_python_the_template_deploys() -> None:
    """Lambda runs the Globals' runtime: a test passing on another minor version proves less (`.python-version`
    makes uv build the venv with it)."""
    import sys

    runtime = TEMPLATE["Globals"]["Function"]["Runtime"]
    assert runtime == f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert (ROOT / ".python-version").read_text().strip() == runtime.removeprefix("python")
    layers = [r["Properties"] for r in TEMPLATE["Resources"].values() if r["Type"] == "AWS::Serverless::LayerVersion"]
    assert all(layer["CompatibleRuntimes"] == [runtime] for layer in layers)
