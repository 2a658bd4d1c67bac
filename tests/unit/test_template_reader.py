from pathlib import Path

import pytest

from infra.local.template import Resolver, aws_cron_to_croniter, load_template


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
