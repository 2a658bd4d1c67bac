from pathlib import Path

import pytest

from infra.local.template import (
    AsyncInvokeConfig,
    Resolver,
    async_invoke_config,
    aws_cron_to_croniter,
    functions,
    load_template,
)


def test_cloudformation_tags_are_read(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "Conditions:\n  Prod: !Equals [!Ref Stage, prod]\n"
        "Parameters:\n  Stage: {Type: String, Default: dev}\n"
        "Resources:\n  Q: {Type: AWS::SQS::Queue, Properties: {X: !GetAtt Table.Arn, Y: !Sub '${Stage}-${Table.Arn}',"
        " Z: !If [Prod, a, b]}}\n"
    )
    template = load_template(path)
    resolver = Resolver(template, pseudo={"AWS::Region": "eu-west-3"})
    resolver.attributes[("Table", "Arn")] = "arn:table"
    assert resolver.resolve(template["Resources"]["Q"]["Properties"]) == {
        "X": "arn:table",
        "Y": "dev-arn:table",
        "Z": "b",
    }


@pytest.mark.parametrize(
    ("aws", "five_fields"),
    [
        ("cron(0 1 * * ? *)", "0 1 * * *"),
        ("cron(0 2 1,16 * ? *)", "0 2 1,16 * *"),
        ("cron(30 0 ? * MON-FRI *)", "30 0 * * MON-FRI"),
    ],
)
def test_eventbridge_crons_convert(aws: str, five_fields: str) -> None:
    assert aws_cron_to_croniter(aws) == five_fields


@pytest.mark.parametrize("bad", ["cron(0 1 * *)", "cron(0 1 * * * *)", "rate(1 day)", "cron(0 1 ? * 2 *)"])
def test_malformed_or_ambiguous_crons_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        aws_cron_to_croniter(bad)


def test_event_invoke_config_is_read_with_lambdas_defaults(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "Globals:\n  Function:\n    Timeout: 10\n    EventInvokeConfig: {MaximumEventAgeInSeconds: 3600}\n"
        "Resources:\n"
        "  Configured:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      CodeUri: functions/a\n      Handler: app.lambda_handler\n"
        "      EventInvokeConfig:\n        MaximumRetryAttempts: 0\n        MaximumEventAgeInSeconds: 600\n"
        "        DestinationConfig:\n          OnFailure: {Type: SQS, Destination: !GetAtt Failed.Arn}\n"
        "  FromGlobals:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      CodeUri: functions/b\n      Handler: app.lambda_handler\n"
        "      EventInvokeConfig: {MaximumRetryAttempts: 1}\n"
        "  Failed: {Type: AWS::SQS::Queue}\n"
    )
    found = {f.logical_id: f.async_invoke for f in functions(load_template(path))}
    assert found["Configured"] == AsyncInvokeConfig(
        max_retries=0,
        max_event_age_seconds=600,
        on_failure={"Type": "SQS", "Destination": {"Fn::GetAtt": ["Failed", "Arn"]}},  # resolved by the stack
    )
    assert found["FromGlobals"] == AsyncInvokeConfig(max_retries=1, max_event_age_seconds=3600, on_failure=None)
    assert async_invoke_config({}) == AsyncInvokeConfig(max_retries=2, max_event_age_seconds=21600, on_failure=None)


def test_scheduled_jobs_retry_in_lambda_and_keep_failed_runs_in_the_jobs_failure_queue() -> None:
    """A schedule's RetryPolicy is Scheduler's (hand-over); the function's EventInvokeConfig is Lambda's (failed run).
    The ranges AWS accepts (0-2 retries, 60-21600 s) are checked by `make check-template` (cfn-lint)."""
    scheduled = [f for f in functions(load_template()) if f.schedules]
    assert {f.logical_id for f in scheduled} == {
        "StockImportJobFunction",
        "ExpireBookingsJobFunction",
        "AutoValidateJobFunction",
        "PayoutsJobFunction",
    }
    for function in scheduled:
        assert function.async_invoke.max_retries == 2, function.logical_id
        assert function.async_invoke.on_failure == {
            "Type": "SQS",
            "Destination": {"Fn::GetAtt": ["JobsFailureQueue", "Arn"]},
        }, function.logical_id
        assert all(schedule.max_retries == 3 for schedule in function.schedules), function.logical_id


def test_a_property_that_resolves_to_no_value_is_removed_as_cloudformation_does() -> None:
    from infra.local.template import Resolver

    resolver = Resolver({"Conditions": {"Never": {"Fn::Equals": ["a", "b"]}}}, {"AWS::Region": "eu-west-3"})
    properties = {"Kept": 1, "Dropped": {"Fn::If": ["Never", {"A": 1}, {"Ref": "AWS::NoValue"}]},
                  "List": [1, {"Ref": "AWS::NoValue"}, 2]}  # fmt: skip
    assert resolver.resolve(properties) == {"Kept": 1, "List": [1, 2]}
