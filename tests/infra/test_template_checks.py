"""infra/checks/check_template.py passes template.yaml and catches typical mistakes in a mutated copy of it.

The checker runs in its own uv environment (samtranslator pins another pydantic than the project), as `make test` does.
Two runs in parallel: template.yaml, and one copy carrying every mutation below (each touches a different place, none
stops the SAM translation, so each must be reported on its own: one checker run instead of one per mutation).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
# --compile-bytecode: only acts when uv builds the environment; imports then take ~1 s instead of ~4 s.
CHECKER_ENV = ["--no-project", "--isolated", "--quiet", "--compile-bytecode"]
CHECKER_ENV += ["--with-requirements", "infra/checks/requirements.txt"]
# The expiry job's EventInvokeConfig up to its service name (the same lines, but that one, are in other jobs).
EXPIRE_INVOKE_CONFIG = """        MaximumRetryAttempts: 2
        MaximumEventAgeInSeconds: 21600
        DestinationConfig:
          OnFailure: {Type: SQS, Destination: !GetAtt JobsFailureQueue.Arn}
      Environment:
        Variables:
          POWERTOOLS_SERVICE_NAME: expire-bookings-job
"""
# mutation -> (text of template.yaml, its replacement, what the checker's output must say)
MUTATIONS = {
    "unknown-ref": ("TABLE_NAME: !Ref Table\n", "TABLE_NAME: !Ref Tabel\n", "'Tabel' is not one of"),
    "unknown-attribute": ("!GetAtt Table.StreamArn", "!GetAtt Table.Nope", "'Nope' is not one of"),
    "bad-runtime-in-globals": ("Runtime: python3.11\n", "Runtime: python3.99\n", "'python3.99' is not one of"),
    "cron-hour-25": ("cron(0 1 * * ? *)", "cron(0 25 * * ? *)", "cron(0 25 * * ? *): hours '25' is out of range"),
    "cron-4-fields": ("cron(30 0 * * ? *)", "cron(30 0 * *)", "cron(30 0 * *): cron needs 6 fields"),
    "cron-without-?": ("cron(0 3 * * ? *)", "cron(0 3 * * * *)", "cron(0 3 * * * *): one of day-of-month, day-of-week"),
    "scheduled-job-without-on-failure": (
        "MaximumEventAgeInSeconds: 10800\n        DestinationConfig:\n"
        "          OnFailure: {Type: SQS, Destination: !GetAtt JobsFailureQueue.Arn}\n",
        "MaximumEventAgeInSeconds: 10800\n",
        "StockImportJobFunction is invoked asynchronously by its schedule: its EventInvokeConfig must set "
        "DestinationConfig.OnFailure",
    ),
    "scheduled-job-without-retry-attempts": (
        EXPIRE_INVOKE_CONFIG,
        EXPIRE_INVOKE_CONFIG.replace("        MaximumRetryAttempts: 2\n", "", 1),
        "ExpireBookingsJobFunction is invoked asynchronously by its schedule: its EventInvokeConfig must set "
        "MaximumRetryAttempts",
    ),
    "log-group-without-retention": (
        '      LogGroupName: !Sub "/aws/lambda/${AWS::StackName}"\n      RetentionInDays: !If [IsProd, 90, 14]\n',
        '      LogGroupName: !Sub "/aws/lambda/${AWS::StackName}"\n',
        "FunctionsLogGroup keeps its logs forever: set RetentionInDays",
    ),
    "alarm-topic-with-the-aws-managed-key": (
        "KmsMasterKeyId: !Ref AlarmTopicKey\n",
        "KmsMasterKeyId: alias/aws/sns\n",
        "AlarmTopic is encrypted with the AWS-managed key alias/aws/sns: CloudWatch cannot publish to it",
    ),
    "schedule-named-without-the-stack": (
        'Name: !Sub "${AWS::StackName}-auto-validate-bookings"',
        "Name: auto-validate-bookings",
        "[schedule-name] AutoValidateJobFunction.Daily is named without the stack's name",
    ),
    "queue-without-alarm": (
        "Value: !GetAtt StockImportQueue.QueueName}]",
        "Value: !GetAtt DailyJobsQueue.QueueName}]",
        "[alarms] no alarm watches the queue StockImportQueue",
    ),
    "function-without-throttles-alarm": (
        "MetricName: Throttles\n      Dimensions: [{Name: FunctionName, Value: !Ref CounterApiFunction}]",
        "MetricName: Throttles\n      Dimensions: [{Name: FunctionName, Value: !Ref PlatformApiFunction}]",
        "[alarms] no Throttles alarm on the function CounterApiFunction",
    ),
}


def uv_command() -> list[str]:
    """How to reach uv: the Makefile exports it as UV (a path, or `python3 -m uv` on a fresh machine)."""
    if "UV" in os.environ:
        return shlex.split(os.environ["UV"])
    path = shutil.which("uv")
    assert path, "uv is not installed: run the tests through `make test`"
    return [path]


def run(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}  # not the project's venv
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str]]:
    """(exit code, output) of the checker on template.yaml ("real") and on the mutated copy ("mutated")."""
    uv = uv_command()
    if run([*uv, "run", "--offline", *CHECKER_ENV, "python", "-c", ""], 60).returncode:  # not in uv's cache yet
        warm = run([*uv, "run", *CHECKER_ENV, "python", "-c", ""], 600)
        assert warm.returncode == 0, f"cannot build the checker's environment:\n{warm.stderr}"
    text = TEMPLATE.read_text(encoding="utf-8")
    for old, new, _ in MUTATIONS.values():
        assert text.count(old) == 1, f"template.yaml changed: {old!r} must occur exactly once, update MUTATIONS"
        text = text.replace(old, new)
    mutated = tmp_path_factory.mktemp("templates") / "mutated.yaml"  # its CodeUri directories do not exist
    mutated.write_text(text, encoding="utf-8")
    checker = [*uv, "run", "--offline", *CHECKER_ENV, "python", "infra/checks/check_template.py"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        real, bad = pool.map(lambda path: run([*checker, str(path)], 300), [TEMPLATE, mutated])
    return {"real": (real.returncode, real.stdout + real.stderr), "mutated": (bad.returncode, bad.stdout + bad.stderr)}


def test_real_template_passes(results: dict[str, tuple[int, str]]) -> None:
    code, output = results["real"]
    assert code == 0, output
    assert output.strip().splitlines()[-1].startswith("template checks: OK ("), output


def test_mutated_template_fails(results: dict[str, tuple[int, str]]) -> None:
    code, output = results["mutated"]
    assert code == 1, output
    assert output.strip().splitlines()[-1] == "template checks: FAILED (1 of 1 templates)", output


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_each_mutation_is_named(results: dict[str, tuple[int, str]], mutation: str) -> None:
    assert MUTATIONS[mutation][2] in results["mutated"][1], results["mutated"][1]
