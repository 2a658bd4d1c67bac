"""Offline checks of SAM templates: translate with samtranslator, lint the result with cfn-lint, check schedules
and that every scheduled function says what Lambda does with a failed run (EventInvokeConfig).

cfn-lint alone skips the SAM transform (missing unknown !Ref / !GetAtt targets, bad runtimes...). samtranslator pins
its own pydantic, so this runs isolated: `uv run --no-project --isolated --with-requirements
infra/checks/requirements.txt python infra/checks/check_template.py template.yaml [other.yaml ...]`. No AWS call:
dummy S3 code locations (directories need not exist), no IAM lookup, fixed region and account. Exit 0 if no problem
(cfn-lint warnings count), 1 otherwise, 2 without a template argument.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

from cfnlint.api import ManualArgs, lint
from cfnlint.decode.decode import decode_str
from samtranslator.model.exceptions import ExceptionWithMessage
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

REGION = "eu-west-3"
ROOT = Path(__file__).resolve().parents[2]
ROLES_FILE = ROOT / "infra" / "local" / "roles.json"  # the translated roles, for the local stack (`make roles`)
PSEUDO_PARAMETERS = {"AWS::Region": REGION, "AWS::Partition": "aws", "AWS::AccountId": "123456789012"}
# SAM type -> property naming local code/definitions that `sam build` / `sam package` would upload to S3.
CODE_PROPERTIES = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"} | {
    f"AWS::Serverless::{kind}": "DefinitionUri" for kind in ("Api", "HttpApi", "StateMachine")
}
# cfn-lint rules that cannot apply to a machine-translated template, each with its reason. None is needed today: the
# translated template.yaml is clean under every error (E) and warning (W) rule (informational I rules are off).
IGNORED_RULES: list[str] = []
# AWS cron fields: name, min, max, regex of the tokens allowed besides numbers, ranges, lists and steps, value names
CRON_FIELDS = [
    ("minutes", 0, 59, r"\*", ""),
    ("hours", 0, 23, r"\*", ""),
    ("day-of-month", 1, 31, r"\*|\?|L|LW|\d{1,2}W", ""),
    ("month", 1, 12, r"\*", "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC"),
    ("day-of-week", 1, 7, r"\*|\?|L|[1-7]L|[1-7]#[1-5]", "SUN MON TUE WED THU FRI SAT"),
    ("year", 1970, 2199, r"\*", ""),
]
RATE_OR_AT = r"rate\((1 (minute|hour|day)|([2-9]|[1-9]\d+) (minutes|hours|days))\)|at\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\)"


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}  # tolerate malformed sections: cfn-lint reports them


class OfflineSession:
    """All the translator reads from a boto3 Session; a real one would read the local AWS configuration."""

    region_name = REGION


def schedule_problems(expression: Any) -> list[str]:
    """What is wrong with an AWS cron(min hour day-of-month month day-of-week year), rate(...) or at(...)."""
    if not isinstance(expression, str) or re.fullmatch(RATE_OR_AT, expression):
        return []  # intrinsic functions are not checked
    cron = re.fullmatch(r"cron\(([^()]*)\)", expression)
    if not cron:
        return ["expected cron(<6 fields>), rate(<n> <unit>) (unit singular iff n is 1) or at(yyyy-mm-ddThh:mm:ss)"]
    fields = cron.group(1).split()
    if len(fields) != 6:
        return [f"cron needs 6 fields (minutes hours day-of-month month day-of-week year), got {len(fields)}"]
    problems = [] if (fields[2] == "?") != (fields[4] == "?") else ["one of day-of-month, day-of-week must be '?'"]
    for field, (name, low, high, special, names) in zip(fields, CRON_FIELDS, strict=True):
        for item in field.split(","):
            base, _, step = item.upper().partition("/")
            if re.fullmatch(special, item.upper()) or (base == "*" and step.isdigit()):
                continue
            bounds = [str(names.split().index(b) + 1) if b in names.split() else b for b in base.split("-")]
            if len(bounds) > 2 or not all(b.isdigit() for b in bounds) or (step and not step.isdigit()):
                problems.append(f"{name} {item!r} is not a valid value")
            elif not all(low <= int(b) <= high for b in bounds):
                problems.append(f"{name} {item!r} is out of range {low}-{high}")
    return problems


def bad_schedules(resources: dict[str, Any]) -> list[str]:
    """Check the Schedule/ScheduleV2 events and the Scheduler/EventBridge schedule resources."""
    found = []
    for logical_id, resource in resources.items():
        properties = mapping(mapping(resource).get("Properties"))
        if mapping(resource).get("Type") in ("AWS::Scheduler::Schedule", "AWS::Events::Rule"):
            found.append((f"Resources/{logical_id}/Properties", properties.get("ScheduleExpression")))
        for event_id, event in mapping(properties.get("Events")).items():
            if mapping(event).get("Type") in ("Schedule", "ScheduleV2"):
                where = f"Resources/{logical_id}/Properties/Events/{event_id}/Properties"
                found.append((where, mapping(event.get("Properties")).get("ScheduleExpression")))
    return [f"[schedule] {e}: {p} ({where}/ScheduleExpression)" for where, e in found for p in schedule_problems(e)]


def unguarded_scheduled_functions(template: dict[str, Any]) -> list[str]:
    """A schedule invokes its function asynchronously: once Lambda has accepted the event, a failed run is retried
    and kept per the function's EventInvokeConfig, not per the schedule's RetryPolicy / DeadLetterConfig (those only
    cover a failed hand-over). Without `MaximumRetryAttempts` set and an `OnFailure` destination, a job that fails
    is retried by default rules and then silently dropped. Globals.Function.EventInvokeConfig counts (SAM merges it)."""
    global_config = mapping(mapping(mapping(template.get("Globals")).get("Function")).get("EventInvokeConfig"))
    problems = []
    for logical_id, resource in mapping(template.get("Resources")).items():
        properties = mapping(mapping(resource).get("Properties"))
        if mapping(resource).get("Type") != "AWS::Serverless::Function":
            continue
        events = mapping(properties.get("Events")).values()
        if not any(mapping(event).get("Type") in ("Schedule", "ScheduleV2") for event in events):
            continue
        config = {**global_config, **mapping(properties.get("EventInvokeConfig"))}
        on_failure = mapping(
            {**mapping(global_config.get("DestinationConfig")), **mapping(config.get("DestinationConfig"))}.get(
                "OnFailure"
            )
        )
        missing = [] if "MaximumRetryAttempts" in config else ["MaximumRetryAttempts"]
        missing += [] if on_failure.get("Destination") else ["DestinationConfig.OnFailure (Type, Destination)"]
        problems += [
            f"[async-invoke] {logical_id} is invoked asynchronously by its schedule: its EventInvokeConfig must set "
            f"{what} (Resources/{logical_id}/Properties/EventInvokeConfig)"
            for what in missing
        ]
    return problems


def alarm_topics_cloudwatch_cannot_use(template: dict[str, Any]) -> list[str]:
    """An SNS topic that alarms publish to, encrypted with the AWS-managed key `alias/aws/sns`: its key policy cannot be
    changed to let CloudWatch use it, so every alarm action fails silently and nobody is ever told. Use no key, or a
    customer-managed key whose policy lets `cloudwatch.amazonaws.com` call kms:Decrypt and kms:GenerateDataKey*."""
    resources = mapping(template.get("Resources"))
    alarmed = set()
    for resource in resources.values():
        if mapping(resource).get("Type") != "AWS::CloudWatch::Alarm":
            continue
        for action in mapping(mapping(resource).get("Properties")).get("AlarmActions") or []:
            if isinstance(action, dict) and "Ref" in action:
                alarmed.add(action["Ref"])
    problems = []
    for logical_id in sorted(alarmed):
        properties = mapping(mapping(resources.get(logical_id)).get("Properties"))
        key = properties.get("KmsMasterKeyId")
        if isinstance(key, str) and key.startswith(("alias/aws/", "arn:aws:kms")) and "alias/aws/" in key:
            problems.append(
                f"[alarm-topic] {logical_id} is encrypted with the AWS-managed key {key}: CloudWatch cannot publish to "
                f"it, no alarm would ever notify (Resources/{logical_id}/Properties/KmsMasterKeyId)"
            )
    return problems


def colliding_schedule_names(template: dict[str, Any]) -> list[str]:
    """SAM names a ScheduleV2 after its function and event (`StockImportJobFunctionDaily`): a second stack in the same
    account (staging beside prod) would fail to create it. A schedule's name must carry the stack's name."""
    problems = []
    for logical_id, resource in mapping(template.get("Resources")).items():
        for event_id, event in mapping(mapping(mapping(resource).get("Properties")).get("Events")).items():
            if mapping(event).get("Type") != "ScheduleV2":
                continue
            name = mapping(event.get("Properties")).get("Name")
            if "${AWS::StackName}" not in json.dumps(name):
                problems.append(
                    f"[schedule-name] {logical_id}.{event_id} is named without the stack's name: two stacks in one "
                    f"account would collide (Resources/{logical_id}/Properties/Events/{event_id}/Properties/Name)"
                )
    return problems


def unwatched(template: dict[str, Any]) -> list[str]:
    """A queue no alarm watches fills up unseen (a DLQ is where failed work waits for a person); a function without
    an Errors and a Throttles alarm fails or refuses calls unseen."""
    resources = mapping(template.get("Resources"))
    watched: set[tuple[str, str]] = set()  # (metric's dimension, logical id)
    for resource in resources.values():
        properties = mapping(mapping(resource).get("Properties"))
        if mapping(resource).get("Type") != "AWS::CloudWatch::Alarm":
            continue
        for dimension in properties.get("Dimensions") or []:
            value = mapping(dimension).get("Value")
            target = mapping(value).get("Ref") or (mapping(value).get("Fn::GetAtt") or [""])[0]
            if isinstance(target, str) and target:
                watched.add((f"{dimension.get('Name')}:{properties.get('MetricName')}", target))
    problems = []
    for logical_id, resource in resources.items():
        kind = mapping(resource).get("Type")
        if kind == "AWS::SQS::Queue" and not any(
            name.startswith("QueueName:") and t == logical_id for name, t in watched
        ):
            problems.append(f"[alarms] no alarm watches the queue {logical_id} (Resources/{logical_id})")
        if kind == "AWS::Serverless::Function":
            problems += [
                f"[alarms] no {metric} alarm on the function {logical_id} (Resources/{logical_id})"
                for metric in ("Errors", "Throttles")
                if (f"FunctionName:{metric}", logical_id) not in watched
            ]
    return problems


def logs_kept_forever(template: dict[str, Any]) -> list[str]:
    """A log group without RetentionInDays keeps (and bills) every line forever; a function without a LoggingConfig
    log group of the template logs into one Lambda creates that way."""
    resources = mapping(template.get("Resources"))
    problems = [
        f"[log-retention] {logical_id} keeps its logs forever: set RetentionInDays (Resources/{logical_id}/Properties)"
        for logical_id, resource in resources.items()
        if mapping(resource).get("Type") == "AWS::Logs::LogGroup"
        and "RetentionInDays" not in mapping(mapping(resource).get("Properties"))
    ]
    global_config = mapping(mapping(mapping(template.get("Globals")).get("Function")).get("LoggingConfig"))
    for logical_id, resource in resources.items():
        if mapping(resource).get("Type") != "AWS::Serverless::Function":
            continue
        config = {**global_config, **mapping(mapping(mapping(resource).get("Properties")).get("LoggingConfig"))}
        group = str(mapping(config.get("LogGroup")).get("Ref") or "")
        if mapping(resources.get(group)).get("Type") != "AWS::Logs::LogGroup":
            problems.append(
                f"[log-retention] {logical_id} logs into a log group Lambda creates, kept forever: set its "
                f"LoggingConfig.LogGroup to a log group of the template (Resources/{logical_id}/Properties)"
            )
    return problems


def use_dummy_code_locations(resources: dict[str, Any]) -> None:
    for resource in resources.values():
        prop, properties = CODE_PROPERTIES.get(mapping(resource).get("Type", "")), mapping(resource).get("Properties")
        if not prop or not isinstance(properties, dict) or not isinstance(properties.get(prop, ""), str):
            continue  # nothing to upload, or already an {Bucket, Key} location or an intrinsic
        if "InlineCode" in properties or properties.get("PackageType") == "Image":
            continue
        if prop in properties or prop in ("CodeUri", "ContentUri"):  # may come from Globals: set it anyway
            properties[prop] = f"s3://dummy-bucket/{prop}.zip"


def check(path: Path) -> tuple[list[str], dict[str, Any]]:
    """Return (problems, CloudFormation template) for one SAM template."""
    template, parse_errors = decode_str(path.read_text(encoding="utf-8"))
    if parse_errors or not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        return [f"[parse] {m.message} (line {m.linenumber})" for m in parse_errors] or ["[parse] no Resources"], {}
    problems = bad_schedules(template["Resources"]) + unguarded_scheduled_functions(template)
    problems += alarm_topics_cloudwatch_cannot_use(template) + logs_kept_forever(template) + unwatched(template)
    problems += colliding_schedule_names(template)
    use_dummy_code_locations(template["Resources"])
    translator = Translator(None, Parser(), boto_session=OfflineSession())
    try:  # get_managed_policy_map=dict: a loader returning {}, no IAM call
        translated = translator.translate(template, dict(PSEUDO_PARAMETERS), get_managed_policy_map=dict)
    except ExceptionWithMessage as error:  # InvalidDocumentException lists every cause
        return [*problems, *(f"[sam-translate] {cause.message}" for cause in getattr(error, "causes", [error]))], {}
    for match in lint(json.dumps(translated), config=ManualArgs(regions=[REGION], ignore_checks=IGNORED_RULES)):
        message = textwrap.shorten(match.message, 240, placeholder=" …")  # E1020 lists every logical id: keep the start
        where = getattr(match, "path_string", "") or f"line {match.linenumber} of the translated template"
        problems.append(f"[cfn-lint {match.rule.id}] {message} ({where})")
    return problems, translated


def function_roles(translated: dict[str, Any]) -> dict[str, Any]:
    """Each function's execution role as the SAM translation writes it (intrinsics left for the reader to resolve):
    what the local stack builds each function's IAM role from (`infra/local/iam.py`)."""
    resources = mapping(translated.get("Resources"))
    roles = {}
    for logical_id, resource in sorted(resources.items()):
        properties = mapping(mapping(resource).get("Properties"))
        if mapping(resource).get("Type") != "AWS::Lambda::Function":
            continue
        role_id = mapping(properties.get("Role")).get("Fn::GetAtt", [""])[0]
        role = mapping(mapping(resources.get(role_id)).get("Properties"))
        roles[logical_id] = {
            "role": role_id,
            "assumeRolePolicy": role.get("AssumeRolePolicyDocument"),
            "managedPolicyArns": role.get("ManagedPolicyArns", []),
            "policies": [{"name": p["PolicyName"], "document": p["PolicyDocument"]} for p in role.get("Policies", [])],
        }
    return roles


def stale_roles(translated: dict[str, Any], roles_file: Path, write: bool) -> list[str]:
    """The local stack's copy of the translated roles must be the template's (it runs without the translator)."""
    wanted = json.dumps(function_roles(translated), indent=1, sort_keys=True) + "\n"
    if write:
        roles_file.write_text(wanted, encoding="utf-8")
    elif not roles_file.exists() or roles_file.read_text(encoding="utf-8") != wanted:
        return [f"[roles] {roles_file} is not the translated template's roles: run `make roles`"]
    return []


def main(arguments: list[str]) -> int:
    write_roles = "--write-roles" in arguments
    translated_out = next((a.split("=", 1)[1] for a in arguments if a.startswith("--translated-out=")), None)
    paths = [argument for argument in arguments if not argument.startswith("--")]
    if not paths:
        print("usage: check_template.py [--write-roles] [--translated-out=FILE] TEMPLATE [...]", file=sys.stderr)
        return 2
    logging.getLogger("samtranslator.metrics").setLevel(logging.ERROR)  # "There are unpublished metrics" noise
    failed, types = 0, []
    for name in paths:
        problems, translated = check(Path(name))
        if Path(name).resolve() == ROOT / "template.yaml" and translated:
            problems += stale_roles(translated, ROLES_FILE, write_roles)
        if translated_out and translated:  # for checkov, which reads CloudFormation, not SAM
            Path(translated_out).write_text(json.dumps(translated, indent=1), encoding="utf-8")
        print("".join(f"{name}: {problem}\n" for problem in problems), end="")
        print(f"{name}: FAILED ({len(problems)} problem(s))" if problems else f"{name}: OK")
        failed += bool(problems)
        types += [mapping(resource).get("Type") for resource in translated.get("Resources", {}).values()]
    summary = f"{len(types)} resources, {types.count('AWS::Lambda::Function')} functions"
    print("template checks: " + (f"FAILED ({failed} of {len(paths)} templates)" if failed else f"OK ({summary})"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
