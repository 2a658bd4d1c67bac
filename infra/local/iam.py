"""IAM enforced locally, as AWS enforces it: every function runs with credentials of its own role.

The roles are the SAM translation's (`roles.json`, written by `make roles` and held to the template by `make
check-template`). The local stack creates each one in the embedded AWS's IAM (moto), with its inline policies and the
documents of its AWS-managed policies, and hands each function the credentials of an STS `AssumeRole` of it. Every
request signed with those credentials is then checked here before moto answers it:
- moto checks the signature and finds the assumed role from the access key (its own IAM: an unknown key is refused);
- the request becomes the actions AWS authorises for it (`requested_actions`): a transaction is its inner `PutItem`,
  `UpdateItem`, `DeleteItem`, `ConditionCheckItem` and `GetItem`, each on its table with its partition key, where moto
  checks the operation name only; a Query on an index is authorised on the index's ARN; an SQS batch is `SendMessage`;
- the role's statements decide (`decide`): an explicit Deny wins, else an Allow whose Action, Resource and Condition
  (`dynamodb:LeadingKeys` with `ForAllValues:StringLike`/`StringEquals`) all match, else denied — moto's own evaluator
  ignores resources for DynamoDB (it sees `*`) and knows no DynamoDB condition key.
A denied call gets AWS's AccessDeniedException, so a missing grant fails locally as it would in AWS. Every decision is
appended to `iam-calls.jsonl` in the stack's log directory: the e2e suite compares them with the roles both ways
(every call granted, every grant used: `tests/e2e/iam_grants.py`).

Requests signed with other keys (the stack itself: provisioning, the gateway's Cognito checks, the stream and queue
pollers that are Lambda's own service in AWS; the tests' seeding) are not a function's and are not checked. Neither
is a browser's upload with a presigned POST (its credential is inside the multipart form).
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

ROLES_FILE = Path(__file__).with_name("roles.json")
ROLE_SESSION_SECONDS = 43_200  # the longest STS allows: a `make run` lasts a working day


@dataclass(frozen=True)
class Action:
    """One action AWS authorises for a request: `dynamodb:DeleteItem` on a table, with its partition key values."""

    name: str
    resources: tuple[str, ...]  # allowed when any of them is (SES: the address's identity or its domain's)
    leading_keys: tuple[str, ...] = ()

    @property
    def resource(self) -> str:
        return self.resources[0]


@dataclass(frozen=True)
class Grant:
    """One statement of a role's policy, as it was written (the policy's name and the statement's place)."""

    policy: str
    index: int
    statement: Mapping[str, Any]
    managed: bool = False


@dataclass
class Decision:
    function: str
    action: str
    resource: str
    allowed: bool
    grant: list[Any] | None = None  # [policy, statement index] of the Allow that granted it
    leading_keys: list[str] = field(default_factory=list)
    call: int = 0  # the AWS call it belongs to (a transaction's actions share theirs), numbered from 1 in each run


# -- the policy language (the part the roles use) ---------------------------------------------------------------------
def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def matches(patterns: Any, value: str, *, case_sensitive: bool = True) -> bool:
    """IAM wildcards: `*` any run of characters, `?` one character."""
    for pattern in _as_list(patterns):
        pattern, candidate = (str(pattern), value) if case_sensitive else (str(pattern).lower(), value.lower())
        if fnmatch.fnmatchcase(candidate, pattern.replace("[", "[[]")):
            return True
    return False


def _condition_holds(condition: Mapping[str, Any] | None, action: Action) -> bool:
    """The condition operators the roles use; any other makes the statement not apply (deny-safe)."""
    for operator, tests in (condition or {}).items():
        for key, expected in tests.items():
            if key.lower() != "dynamodb:leadingkeys":
                return False
            if operator == "ForAllValues:StringLike":
                test = matches
            elif operator == "ForAllValues:StringEquals":

                def test(patterns: Any, value: str, **_: Any) -> bool:
                    return value in _as_list(patterns)
            else:
                return False
            # ForAllValues holds for an empty set: AWS says so, which is why a Scan passes such a condition
            if not all(test(expected, value) for value in action.leading_keys):
                return False
    return True


def statement_applies(statement: Mapping[str, Any], action: Action) -> bool:
    if "Action" in statement and not matches(statement["Action"], action.name, case_sensitive=False):
        return False
    if "NotAction" in statement and matches(statement["NotAction"], action.name, case_sensitive=False):
        return False
    if not any(matches(statement.get("Resource", []), resource) for resource in action.resources):
        return False
    return _condition_holds(statement.get("Condition"), action)


def decide(grants: Iterable[Grant], action: Action) -> Grant | None:
    """The Allow that grants `action`, or None when it is denied (explicitly, or by default)."""
    granted = None
    for grant in grants:
        if statement_applies(grant.statement, action):
            if grant.statement.get("Effect") == "Deny":
                return None
            granted = granted or grant
    return granted


# -- what a request asks for ------------------------------------------------------------------------------------------
KeySchema = Callable[[str, str | None], str | None]  # (table, index) -> its partition key attribute

DYNAMODB_TRANSACTION_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                                "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}  # fmt: skip
SQS_ACTIONS = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
               "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}  # fmt: skip


def _scalar(value: Mapping[str, Any] | None) -> list[str]:
    if not value:
        return []
    ((_, raw),) = value.items()
    return [str(raw)]


def _dynamodb(operation: str, body: Mapping[str, Any], region: str, account: str, schema: KeySchema) -> list[Action]:
    def table_arn(table: str, index: str | None = None) -> str:
        arn = f"arn:aws:dynamodb:{region}:{account}:table/{table}"
        return f"{arn}/index/{index}" if index else arn

    def key_of(table: str, item: Mapping[str, Any] | None, index: str | None = None) -> tuple[str, ...]:
        attribute = schema(table, index)
        return tuple(_scalar((item or {}).get(attribute or ""))) if attribute else ()

    if operation == "TransactWriteItems" or operation == "TransactGetItems":
        actions = []
        for entry in body.get("TransactItems", []):
            ((kind, request),) = entry.items()
            table = request["TableName"]
            item = request.get("Key") or request.get("Item")
            actions.append(Action(f"dynamodb:{DYNAMODB_TRANSACTION_ACTIONS[kind]}", (table_arn(table),),
                                  key_of(table, item)))  # fmt: skip
        return actions
    if operation == "BatchWriteItem":
        return [
            Action("dynamodb:BatchWriteItem", (table_arn(table),),
                   tuple(k for r in requests for k in key_of(table, (r.get("PutRequest") or {}).get("Item")
                                                             or (r.get("DeleteRequest") or {}).get("Key"))))
            for table, requests in body.get("RequestItems", {}).items()
        ]  # fmt: skip
    if operation == "BatchGetItem":
        return [
            Action("dynamodb:BatchGetItem", (table_arn(table),),
                   tuple(k for key in request.get("Keys", []) for k in key_of(table, key)))
            for table, request in body.get("RequestItems", {}).items()
        ]  # fmt: skip
    table, index = body.get("TableName", ""), body.get("IndexName")
    if operation in ("GetItem", "DeleteItem", "UpdateItem"):
        return [Action(f"dynamodb:{operation}", (table_arn(table),), key_of(table, body.get("Key")))]
    if operation == "PutItem":
        return [Action("dynamodb:PutItem", (table_arn(table),), key_of(table, body.get("Item")))]
    if operation == "Query":
        return [Action("dynamodb:Query", (table_arn(table, index),), _queried_partition(body, schema(table, index)))]
    if operation == "Scan":  # no partition: a LeadingKeys condition holds (ForAllValues of nothing), as in AWS
        return [Action("dynamodb:Scan", (table_arn(table, index),))]
    return [Action(f"dynamodb:{operation}", (table_arn(table) if table else "*",))]


def _queried_partition(body: Mapping[str, Any], partition_key: str | None) -> tuple[str, ...]:
    names, values = body.get("ExpressionAttributeNames", {}), body.get("ExpressionAttributeValues", {})
    for name, placeholder in re.findall(r"(#?[\w.]+)\s*=\s*(:\w+)", body.get("KeyConditionExpression", "")):
        if names.get(name, name) == partition_key:
            return tuple(_scalar(values.get(placeholder)))
    return ()


def _queue_arn(url: str, region: str, account: str) -> str:
    parts = urlparse(url).path.strip("/").split("/")
    return f"arn:aws:sqs:{region}:{parts[0] if len(parts) == 2 else account}:{parts[-1]}"


def _s3(method: str, path: str) -> list[Action]:
    bucket, _, key = unquote(path.split("?", 1)[0]).lstrip("/").partition("/")
    if not key:
        verb = {"GET": "ListBucket", "HEAD": "ListBucket"}.get(method, f"{method.title()}Bucket")
        return [Action(f"s3:{verb}", (f"arn:aws:s3:::{bucket}",))]
    verb = {"GET": "GetObject", "HEAD": "GetObject", "PUT": "PutObject", "POST": "PutObject",
            "DELETE": "DeleteObject"}.get(method, method)  # fmt: skip
    return [Action(f"s3:{verb}", (f"arn:aws:s3:::{bucket}/{key}",))]


def requested_actions(
    service: str, method: str, path: str, headers: Mapping[str, str], body: bytes, form: Mapping[str, str],
    region: str, account: str, schema: KeySchema,
) -> list[Action]:  # fmt: skip
    """The actions AWS authorises for one request (service as signed: dynamodb, sqs, s3, ses, cognito-idp, ...)."""
    if service == "s3":
        return _s3(method, path)
    target = headers.get("X-Amz-Target") or headers.get("x-amz-target")
    if target:
        operation, parameters = target.rsplit(".", 1)[-1], json.loads(body or b"{}")
    else:  # the query protocol (SES): a form, as moto parsed it
        operation, parameters = form.get("Action", ""), dict(form)
    if service == "dynamodb":
        return _dynamodb(operation, parameters, region, account, schema)
    if service == "sqs":
        resource = _queue_arn(parameters["QueueUrl"], region, account) if "QueueUrl" in parameters else "*"
        return [Action(f"sqs:{SQS_ACTIONS.get(operation, operation)}", (resource,))]
    if service in ("ses", "email"):
        sender = str(parameters.get("Source", "")).rsplit("<", 1)[-1].rstrip(">")
        identities = [sender, sender.rpartition("@")[2]] if sender else ["*"]
        return [Action(f"ses:{operation}", tuple(f"arn:aws:ses:{region}:{account}:identity/{i}" for i in identities))]
    if service == "cognito-idp" and "UserPoolId" in parameters:
        pool = f"arn:aws:cognito-idp:{region}:{account}:userpool/{parameters['UserPoolId']}"
        return [Action(f"cognito-idp:{operation}", (pool,))]
    return [Action(f"{service}:{operation}", ("*",))]


# -- the roles, in the embedded AWS -----------------------------------------------------------------------------------
def managed_policy_document(arn: str) -> Mapping[str, Any]:
    """An AWS-managed policy's document, from moto's copy of them."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    name = arn.rsplit("/", 1)[-1]
    return dict(json.loads(aws_managed_policies_data)[name]["Document"])


def function_grants(roles: Mapping[str, Any], resolve: Callable[[Any], Any]) -> dict[str, list[Grant]]:
    """Each function's statements, intrinsics resolved against what the local stack created."""
    grants: dict[str, list[Grant]] = {}
    for function, role in roles.items():
        found = []
        for policy in role["policies"]:
            document = resolve(policy["document"])
            found += [Grant(policy["name"], i, s) for i, s in enumerate(_as_list(document["Statement"]))]
        for arn in role["managedPolicyArns"]:
            document = managed_policy_document(arn)
            found += [Grant(arn, i, s, managed=True) for i, s in enumerate(_as_list(document["Statement"]))]
        grants[function] = found
    return grants


class LocalIam:
    """The functions' roles in the embedded AWS, their credentials, and the check of every request they sign."""

    def __init__(self, grants: dict[str, list[Grant]], calls_file: Path | None) -> None:
        self.grants = grants
        self.calls_file = calls_file
        self.function_by_key: dict[str, str] = {}
        self._write_lock = threading.Lock()
        self._calls_made = itertools.count(1)  # next() is atomic under the GIL
        # one handle for the stack's life, a line at a time (readers see whole lines; a file open per call cost more
        # than the check itself)
        self._calls = calls_file.open("a", encoding="utf-8", buffering=1) if calls_file else None

    def create_roles(self, iam: Any, sts: Any, stack_name: str, roles: Mapping[str, Any]) -> dict[str, dict[str, str]]:
        """Creates each function's role (its statements as inline policies) and assumes it: the credentials."""
        credentials = {}
        for function, role in roles.items():
            name = f"{stack_name}-{role['role']}"[:64]
            arn = iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(role["assumeRolePolicy"]),
                MaxSessionDuration=ROLE_SESSION_SECONDS,
            )["Role"]["Arn"]
            by_policy: dict[str, list[Mapping[str, Any]]] = {}
            for grant in self.grants[function]:
                by_policy.setdefault(grant.policy.rsplit("/", 1)[-1], []).append(grant.statement)
            for policy, statements in by_policy.items():
                document = {"Version": "2012-10-17", "Statement": statements}
                iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(document))
            assumed = sts.assume_role(RoleArn=arn, RoleSessionName=function[:64], DurationSeconds=ROLE_SESSION_SECONDS)
            keys = assumed["Credentials"]
            self.function_by_key[keys["AccessKeyId"]] = function
            credentials[function] = {
                "AWS_ACCESS_KEY_ID": keys["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": keys["SecretAccessKey"],
                "AWS_SESSION_TOKEN": keys["SessionToken"],
            }
        return credentials

    def write_grants(self, path: Path) -> None:
        """The statements as enforced (intrinsics resolved), for the comparison with the calls made."""
        grants = {function: [asdict(grant) for grant in found] for function, found in self.grants.items()}
        path.write_text(json.dumps(grants, indent=1), encoding="utf-8")

    def check(self, function: str, actions: list[Action]) -> Decision | None:
        """Records every action's decision; the first denied one, if any."""
        denied = None
        call = next(self._calls_made)
        for action in actions:
            grant = decide(self.grants.get(function, []), action)
            granted = [r for r in action.resources if grant and matches(grant.statement.get("Resource", []), r)]
            decision = Decision(
                function, action.name, (granted or [action.resource])[0], grant is not None,
                [grant.policy, grant.index] if grant else None, list(action.leading_keys), call,
            )  # fmt: skip
            self._record(decision)
            denied = denied or (None if grant else decision)
        return denied

    def _record(self, decision: Decision) -> None:
        if self._calls is None:
            return
        with self._write_lock:
            self._calls.write(json.dumps(asdict(decision)) + "\n")

    def install(self, account: str) -> None:
        """Puts this check in front of every action moto answers (its authorisation hook)."""
        from moto.core.authorization import ActionAuthenticatorMixin

        moto_authorize = getattr(ActionAuthenticatorMixin, "_moto_authorize", None)
        if moto_authorize is None:
            moto_authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action
            ActionAuthenticatorMixin._moto_authorize = moto_authorize  # type: ignore[attr-defined]
        from moto.dynamodb.models import dynamodb_backends
        from werkzeug.exceptions import HTTPException

        enforcer = self

        class AccessDenied(HTTPException):
            """AWS's answer to a call its role does not grant (JSON services' shape; S3 and SES read the code)."""

            code = 400

            def __init__(self, decision: Decision, principal: str, json_protocol: bool) -> None:
                message = (
                    f"User: {principal} is not authorized to perform: {decision.action} on resource: "
                    f"{decision.resource} because no identity-based policy allows the {decision.action} action"
                )
                if json_protocol:
                    body = json.dumps({"__type": "AccessDeniedException", "message": message})
                else:
                    body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{message}"
                            "</Message></Error></ErrorResponse>")  # fmt: skip
                    self.code = 403
                super().__init__(description=body)

            def get_headers(self, *_: Any, **__: Any) -> list[tuple[str, str]]:
                return [("Content-Type", "application/x-amz-json-1.0")]

        def schema(table_name: str, index: str | None) -> str | None:
            try:
                table = dynamodb_backends[account]["eu-west-3"].get_table(table_name)
            except Exception:  # an unknown table: moto answers ResourceNotFound itself
                return None
            if not index:
                return str(table.hash_key_attr)
            for candidate in [*table.global_indexes, *table.indexes]:
                if candidate.name == index:
                    return next((k["AttributeName"] for k in candidate.schema if k["KeyType"] == "HASH"), None)
            return None

        def authorize(handler: Any, iam_request_cls: type, resource: str = "*") -> None:
            headers, path = handler.headers, handler.raw_path
            query = urlparse(handler.uri).query
            credential = re.search(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/", headers.get("Authorization", ""))
            if credential is None:  # a presigned URL signs in its query string
                scope = parse_qs(query).get("X-Amz-Credential", [""])[0].split("/")
                key, region, service = (scope[0], scope[2], scope[3]) if len(scope) >= 4 else ("", "", "")
            else:
                key, region, service = credential.groups()
            function = enforcer.function_by_key.get(key)
            if function is None:  # not a function's call (see the module): moto's own rules
                moto_authorize(handler, iam_request_cls, resource)
                return
            principal = f"arn:aws:sts::{account}:assumed-role/{function}/{function}"
            if credential is not None:  # moto finds the assumed role from the key and checks the signature
                iam_request = iam_request_cls(
                    account_id=handler.current_account,
                    method=handler.method,
                    path=path + (f"?{query}" if query else ""),
                    data=handler.data,
                    body=handler.raw_body,
                    headers=headers,
                    action=handler._get_action(),
                )
                iam_request.check_signature()
                principal = iam_request._access_key.arn
            raw = handler.raw_body if isinstance(handler.raw_body, bytes) else str(handler.raw_body or "").encode()
            form = {name: values[0] for name, values in (getattr(handler, "querystring", None) or {}).items()}
            actions = requested_actions(service, handler.method, path, headers, raw, form, region, account, schema)
            denied = enforcer.check(function, actions)
            if denied is not None:
                raise AccessDenied(denied, principal, json_protocol=bool(headers.get("X-Amz-Target")))

        ActionAuthenticatorMixin._authenticate_and_authorize_action = authorize  # type: ignore[method-assign,assignment]


def read_roles(path: Path = ROLES_FILE) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))
