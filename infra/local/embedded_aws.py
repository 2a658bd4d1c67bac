"""The embedded AWS: moto's server on loopback behind ONE global request lock, and the template's resources created
in it. moto is not safe under concurrent requests (a 50-thread booking burst oversold a stock of 10 without the
lock, never with it), and the lock keeps DynamoDB's conditions meaningful under concurrency, as on AWS."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from wsgiref.types import StartResponse, WSGIEnvironment

import boto3
from botocore.config import Config
from werkzeug.serving import BaseWSGIServer, make_server

from infra.local import moto_answers, moto_indexes, moto_transactions
from infra.local.outbox import Outbox
from infra.local.template import Resolver, UnresolvedReference

REGION = "eu-west-3"
ACCOUNT_ID = "123456789012"
STACK_NAME = "passculture-local"
# What a CloudFront distribution's DomainName resolves to locally; the stack replaces the URLs built on it with its
# gateway's /_local/files/ (LocalStack.start)
LOCAL_DISTRIBUTION_DOMAIN = "cloudfront.local.invalid"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


class ClientFactory(Protocol):
    """Anything that hands out boto3 clients: the embedded AWS server, or moto in-process in tests."""

    def client(self, service: str) -> Any: ...


class LockedApp:
    """Serves moto's WSGI app one request at a time."""

    def __init__(self, app: Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]) -> None:
        self._app = app
        self.lock = threading.Lock()  # also taken by in-process readers of moto's state (the outbox)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        with self.lock:
            # Drain the body while holding the lock: moto may stream it lazily.
            return list(self._app(environ, start_response))


class EmbeddedAws:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        app = LockedApp(DomainDispatcherApplication(create_backend_app))
        self.lock = app.lock
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="moto", daemon=True
        )
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        # moto runs in this process: what SES sent is read from its backend, not from its whole state dump.
        self.outbox = Outbox(ACCOUNT_ID, REGION, self.lock)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def environment(self) -> dict[str, str]:
        """What a process needs to talk to this embedded AWS with boto3 (the standard variables)."""
        return {**CREDENTIALS, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": self.endpoint}

    def client(self, service: str) -> Any:
        """One client per service, shared by threads (a boto3 client costs ~160 ms to create, and is thread-safe)."""
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = boto3.client(  # type: ignore[call-overload]
                    service,
                    endpoint_url=self.endpoint,
                    region_name=REGION,
                    aws_access_key_id="testing",
                    aws_secret_access_key="testing",
                    aws_session_token="testing",
                    config=Config(max_pool_connections=64),
                )
            return self._clients[service]

    def start(self) -> None:
        self._thread.start()
        self.reset()

    def reset(self) -> None:
        """moto's state is per process, not per server: start from nothing."""
        from urllib.request import Request, urlopen

        with urlopen(Request(f"{self.endpoint}/moto-api/reset", method="POST"), timeout=10):  # noqa: S310 - loopback
            pass
        self.outbox.install()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Provisioned:
    """What the template's resources became: their Ref values and attributes, and what was left out locally."""

    resolver: Resolver
    skipped: dict[str, str]

    def ref(self, logical_id: str) -> Any:
        return self.resolver.refs[logical_id]

    def attribute(self, logical_id: str, name: str) -> Any:
        return self.resolver.attributes[(logical_id, name)]


def provision(
    aws: ClientFactory,
    template: Mapping[str, Any],
    stack_name: str = STACK_NAME,
    parameters: Mapping[str, str] | None = None,
) -> Provisioned:
    """Creates every resource of the template that has a local counterpart, in dependency order. `parameters` as
    `sam deploy --parameter-overrides` gives them; the others take their defaults."""
    moto_transactions.install()  # transactions at AWS's cost (see the module)
    moto_indexes.install()  # GSI queries at AWS's cost: the partition, not the table (see the module)
    moto_answers.install()  # item answers as plain JSON: moto's serializer was most of its time (see the module)
    resolver = Resolver(
        template,
        refs=dict(parameters or {}),
        pseudo={
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": stack_name,
            "AWS::URLSuffix": "amazonaws.com",
        },
    )
    creators: dict[str, Callable[[ClientFactory, str, str, dict[str, Any], Resolver], None]] = {
        "AWS::DynamoDB::Table": _table,
        "AWS::SQS::Queue": _queue,
        "AWS::S3::Bucket": _bucket,
        "AWS::Cognito::UserPool": _user_pool,
        "AWS::Cognito::UserPoolClient": _user_pool_client,
        "AWS::Cognito::UserPoolGroup": _user_pool_group,
        "AWS::SES::EmailIdentity": _email_identity,
    }
    resources = template["Resources"]
    # Functions and layers run as local processes; their Ref is their name.
    for logical_id, resource in resources.items():
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"):
            resolver.refs[logical_id] = f"{stack_name}-{logical_id}"
            resolver.attributes[(logical_id, "Arn")] = (
                f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{stack_name}-{logical_id}"
            )
        if resource["Type"] == "AWS::CloudFront::Distribution":  # no CloudFront locally: the gateway serves files
            resolver.refs[logical_id] = f"{stack_name}-{logical_id}"
            resolver.attributes[(logical_id, "DomainName")] = LOCAL_DISTRIBUTION_DOMAIN
    pending = {name: r for name, r in resources.items() if r["Type"] in creators}
    skipped = {
        name: r["Type"] for name, r in resources.items() if r["Type"] not in creators and name not in resolver.refs
    }
    while pending:
        progressed = False
        for logical_id, resource in list(pending.items()):
            if "Condition" in resource and not resolver.condition(resource["Condition"]):
                del pending[logical_id]
                continue
            try:
                properties = resolver.resolve(resource.get("Properties", {}))
            except UnresolvedReference:
                continue  # depends on a resource not created yet
            physical = f"{stack_name}-{logical_id}"
            creators[resource["Type"]](aws, logical_id, physical, properties, resolver)
            del pending[logical_id]
            progressed = True
        if not progressed:
            raise RuntimeError(f"cannot resolve the references of: {sorted(pending)}")
    return Provisioned(resolver=resolver, skipped=skipped)


def _table(aws: ClientFactory, logical_id: str, name: str, p: dict[str, Any], resolver: Resolver) -> None:
    dynamodb = aws.client("dynamodb")
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": p["AttributeDefinitions"],
        "KeySchema": p["KeySchema"],
        "BillingMode": p.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if p.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = p["GlobalSecondaryIndexes"]
    if p.get("StreamSpecification"):
        request["StreamSpecification"] = {"StreamEnabled": True, **p["StreamSpecification"]}
    description = dynamodb.create_table(**request)["TableDescription"]
    if p.get("TimeToLiveSpecification"):
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=p["TimeToLiveSpecification"])
    resolver.refs[logical_id] = name
    resolver.attributes[(logical_id, "Arn")] = description["TableArn"]
    resolver.attributes[(logical_id, "StreamArn")] = description.get("LatestStreamArn", "")


def _queue(aws: ClientFactory, logical_id: str, name: str, p: dict[str, Any], resolver: Resolver) -> None:
    sqs = aws.client("sqs")
    attributes: dict[str, str] = {
        key: str(p[key]) for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds") if key in p
    }
    if "RedrivePolicy" in p:
        attributes["RedrivePolicy"] = json.dumps(p["RedrivePolicy"])
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    resolver.refs[logical_id] = url
    resolver.attributes[(logical_id, "QueueName")] = name
    resolver.attributes[(logical_id, "Arn")] = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
    resolver.attributes[(logical_id, "QueueUrl")] = url


def _bucket(aws: ClientFactory, logical_id: str, name: str, p: dict[str, Any], resolver: Resolver) -> None:
    bucket = name.lower()
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    rules = p.get("CorsConfiguration", {}).get("CorsRules", [])
    if rules:  # the portal's browser uploads offer images straight to the bucket: S3 answers its CORS
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [_cors_rule(rule) for rule in rules]})
    resolver.refs[logical_id] = bucket
    resolver.attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{bucket}"


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation CorsRule as S3's API names it."""
    names = {"AllowedHeaders": "AllowedHeaders", "AllowedMethods": "AllowedMethods", "AllowedOrigins": "AllowedOrigins",
             "ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds", "Id": "ID"}  # fmt: skip
    return {names[key]: value for key, value in rule.items() if key in names}


def _user_pool(aws: ClientFactory, logical_id: str, name: str, p: dict[str, Any], resolver: Resolver) -> None:
    request = {k: p[k] for k in ("UsernameAttributes", "AutoVerifiedAttributes", "Policies", "Schema") if k in p}
    pool = aws.client("cognito-idp").create_user_pool(PoolName=name, **request)["UserPool"]
    resolver.refs[logical_id] = pool["Id"]
    resolver.attributes[(logical_id, "Arn")] = pool["Arn"]
    resolver.attributes[(logical_id, "ProviderURL")] = f"cognito-idp.{REGION}.amazonaws.com/{pool['Id']}"


def _user_pool_client(aws: ClientFactory, logical_id: str, name: str, p: dict[str, Any], resolver: Resolver) -> None:
    client = aws.client("cognito-idp").create_user_pool_client(
        UserPoolId=p["UserPoolId"],
        ClientName=name,
        GenerateSecret=bool(p.get("GenerateSecret", False)),
        ExplicitAuthFlows=p.get("ExplicitAuthFlows", []),
    )["UserPoolClient"]
    resolver.refs[logical_id] = client["ClientId"]


def _user_pool_group(aws: ClientFactory, logical_id: str, name: str, p: dict[str, Any], resolver: Resolver) -> None:
    aws.client("cognito-idp").create_group(
        UserPoolId=p["UserPoolId"], GroupName=p["GroupName"], Description=p.get("Description", "")
    )
    resolver.refs[logical_id] = p["GroupName"]


def _email_identity(aws: ClientFactory, logical_id: str, name: str, p: dict[str, Any], resolver: Resolver) -> None:
    identity = p["EmailIdentity"]
    ses = aws.client("ses")
    if "@" in identity:
        ses.verify_email_identity(EmailAddress=identity)
    else:
        ses.verify_domain_identity(Domain=identity)  # a domain identity covers every address of the domain
    resolver.refs[logical_id] = identity


def function_environment(raw: Mapping[str, Any], provisioned: Provisioned, aws: EmbeddedAws) -> dict[str, str]:
    """A function's environment as the template sets it, plus what reaches the embedded AWS."""
    resolved = {name: str(provisioned.resolver.resolve(value)) for name, value in raw.items()}
    local = {"POWERTOOLS_TRACE_DISABLED": "true", "TZ": "UTC", "ALLOW_LOOPBACK_PROVIDERS": "true"}
    return {**resolved, **aws.environment(), **local}
