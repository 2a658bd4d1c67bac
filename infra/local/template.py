"""Reads template.yaml the way CloudFormation would need to: CloudFormation short tags, intrinsic functions resolved
against what the local stack created, SAM Globals merged into each function. The template is the one source of
truth: the local stack creates and wires only what it declares."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"

_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "GetAtt",
            "Sub",
            "Join",
            "If",
            "Not",
            "Equals",
            "And",
            "Or",
            "Select",
            "Split",
            "FindInMap",
            "ImportValue",
            "Base64",
            "GetAZs",
            "Cidr",
        )
    },
}


class _CfnLoader(yaml.SafeLoader):
    """yaml.safe_load refuses !Ref and friends: this loader turns each tag into its long form."""


def _construct(long_name: str) -> Callable[[_CfnLoader, yaml.Node], dict[str, Any]]:
    def construct(loader: _CfnLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if long_name == "Fn::GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {long_name: value}

    return construct


for _short, _long in _TAGS.items():
    _CfnLoader.add_constructor(f"!{_short}", _construct(_long))


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return loaded


class UnresolvedReference(Exception):
    pass


NO_VALUE = object()  # `!Ref AWS::NoValue`: CloudFormation removes the property (or list item) that resolves to it


@dataclass
class Resolver:
    """Resolves intrinsic functions: parameters take their defaults, resources what the local stack made of them."""

    template: Mapping[str, Any]
    pseudo: Mapping[str, str]
    refs: dict[str, Any] = field(default_factory=dict)
    attributes: dict[tuple[str, str], Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, parameter in self.template.get("Parameters", {}).items():
            self.refs.setdefault(name, parameter.get("Default", ""))
        self.refs.update(self.pseudo)

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, argument),) = value.items()
            if name == "Ref":
                return self._ref(argument)
            if name == "Fn::GetAtt":
                return self._attribute(argument[0], argument[1])
            if name == "Fn::Sub":
                return self._sub(argument)
            if name == "Fn::Join":
                return str(argument[0]).join(str(v) for v in self.resolve(argument[1]))
            if name == "Fn::If":
                chosen = argument[1] if self.condition(argument[0]) else argument[2]
                return self.resolve(chosen)
            if name == "Fn::Equals":
                left, right = self.resolve(argument)
                return left == right
            if name == "Fn::Not":
                return not self.resolve(argument[0])
            if name == "Condition":
                return self.condition(argument)
            if name == "Fn::Select":
                return self.resolve(argument[1])[int(argument[0])]
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name not in self.refs:
            raise UnresolvedReference(name)
        return self.refs[name]

    def _attribute(self, resource: str, attribute: str) -> Any:
        if (resource, attribute) not in self.attributes:
            raise UnresolvedReference(f"{resource}.{attribute}")
        return self.attributes[(resource, attribute)]

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name:
                resource, attribute = name.split(".", 1)
                return str(self._attribute(resource, attribute))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}!]+)\}", replace, text)


@dataclass(frozen=True)
class ApiRoute:
    path: str  # API Gateway form: /offers/{offerId}
    method: str
    authorizer: str  # NONE, CognitoAuthorizer, ApiKeyAuthorizer


@dataclass(frozen=True)
class Schedule:
    """A SAM `ScheduleV2` event. `max_retries` is EventBridge Scheduler's own RetryPolicy: how often Scheduler retries
    handing the event to Lambda when that hand-over fails (throttled, function missing, no permission). Once Lambda
    has accepted the event, a failing run is retried by Lambda per the function's `EventInvokeConfig`, not by this."""

    name: str
    expression: str
    timezone: str
    input: dict[str, Any]
    max_retries: int


# Lambda's defaults for an asynchronous invocation (no EventInvokeConfig): 2 retries, events kept 6 hours.
DEFAULT_ASYNC_RETRIES = 2
DEFAULT_MAX_EVENT_AGE_SECONDS = 21600


@dataclass(frozen=True)
class AsyncInvokeConfig:
    """A function's `EventInvokeConfig`: what Lambda does with an asynchronous invocation (InvocationType Event, as
    EventBridge Scheduler invokes) whose run fails — retry it up to `max_retries` times (0-2), discard it once older
    than `max_event_age_seconds` (60-21600), then send an invocation record to `on_failure` if there is one.
    `on_failure` is `DestinationConfig.OnFailure` as written in the template (`{"Type": "SQS", "Destination": ...}`,
    the destination unresolved: the stack resolves it against what it created)."""

    max_retries: int = DEFAULT_ASYNC_RETRIES
    max_event_age_seconds: int = DEFAULT_MAX_EVENT_AGE_SECONDS
    on_failure: dict[str, Any] | None = None


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_uri: str
    handler: str
    timeout: int
    raw_environment: dict[str, Any]
    routes: tuple[ApiRoute, ...]
    schedules: tuple[Schedule, ...]
    stream_events: tuple[dict[str, Any], ...]
    queue_events: tuple[dict[str, Any], ...]
    async_invoke: AsyncInvokeConfig = AsyncInvokeConfig()

    @property
    def module_path(self) -> Path:
        module = self.handler.rsplit(".", 1)[0]
        return ROOT / self.code_uri / f"{module.replace('.', '/')}.py"

    @property
    def module_name(self) -> str:
        """Importable name from the repository root (functions/x/app.py -> functions.x.app)."""
        module = self.handler.rsplit(".", 1)[0]
        return f"{self.code_uri.strip('/').replace('/', '.')}.{module}"

    @property
    def handler_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]


def functions(template: Mapping[str, Any]) -> list[Function]:
    globals_ = template.get("Globals", {}).get("Function", {})
    found: list[Function] = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        environment = dict(globals_.get("Environment", {}).get("Variables", {}))
        environment.update(properties.get("Environment", {}).get("Variables", {}))
        routes, schedules, streams, queues = [], [], [], []
        for event_name, event in (properties.get("Events") or {}).items():
            event_properties = event.get("Properties", {})
            if event["Type"] == "Api":
                authorizer = (event_properties.get("Auth") or {}).get("Authorizer", "NONE")
                routes.append(ApiRoute(event_properties["Path"], event_properties["Method"].upper(), authorizer))
            elif event["Type"] == "ScheduleV2":
                schedules.append(
                    Schedule(
                        name=f"{logical_id}.{event_name}",
                        expression=event_properties["ScheduleExpression"],
                        timezone=event_properties.get("ScheduleExpressionTimezone", "UTC"),
                        input=json.loads(event_properties.get("Input", "{}")),
                        max_retries=int((event_properties.get("RetryPolicy") or {}).get("MaximumRetryAttempts", 0)),
                    )
                )
            elif event["Type"] == "DynamoDB":
                streams.append(event_properties)
            elif event["Type"] == "SQS":
                queues.append(event_properties)
        found.append(
            Function(
                logical_id=logical_id,
                code_uri=properties["CodeUri"],
                handler=properties["Handler"],
                timeout=int(properties.get("Timeout", globals_.get("Timeout", 3))),
                raw_environment=environment,
                routes=tuple(routes),
                schedules=tuple(schedules),
                stream_events=tuple(streams),
                queue_events=tuple(queues),
                async_invoke=async_invoke_config(
                    _merged(globals_.get("EventInvokeConfig") or {}, properties.get("EventInvokeConfig") or {})
                ),
            )
        )
    return found


def _merged(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """SAM Globals: a function's own map is merged into the global one, key by key, recursively."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def async_invoke_config(written: Mapping[str, Any]) -> AsyncInvokeConfig:
    """A function's `EventInvokeConfig` as written (empty when absent), with Lambda's defaults for what it leaves out.
    The ranges (0-2 retries, 60-21600 s) are enforced by the template checks (cfn-lint), as by CloudFormation."""
    on_failure = (written.get("DestinationConfig") or {}).get("OnFailure")
    return AsyncInvokeConfig(
        max_retries=int(written.get("MaximumRetryAttempts", DEFAULT_ASYNC_RETRIES)),
        max_event_age_seconds=int(written.get("MaximumEventAgeInSeconds", DEFAULT_MAX_EVENT_AGE_SECONDS)),
        on_failure=dict(on_failure) if on_failure else None,
    )


def aws_cron_to_croniter(expression: str) -> str:
    """`cron(m h dom mon dow year)` (EventBridge) -> the 5-field form croniter reads. Refuses anything else."""
    match = re.fullmatch(r"cron\((.+)\)", expression.strip())
    if not match:
        raise ValueError(f"not a cron expression: {expression}")
    fields = match.group(1).split()
    if len(fields) != 6:
        raise ValueError(f"an EventBridge cron has 6 fields: {expression}")
    minute, hour, day_of_month, month, day_of_week, _year = fields
    if "?" not in (day_of_month, day_of_week):
        raise ValueError(f"one of day-of-month and day-of-week must be '?': {expression}")
    if any(ch.isdigit() for ch in day_of_week):
        # EventBridge numbers Sunday 1, croniter 0: refuse rather than fire on the wrong day.
        raise ValueError(f"use day names (MON-FRI), not numbers, in day-of-week: {expression}")
    return " ".join(part.replace("?", "*") for part in (minute, hour, day_of_month, month, day_of_week))
