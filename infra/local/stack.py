"""The whole local stack, wired from template.yaml: embedded AWS, one runtime process per function, the API
gateway, the scheduler (invoking through Lambda's asynchronous invocation), the stream and queue pollers.
`python -m infra.local` runs it (that is `make run`)."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.request import urlopen

from chalice.config import Config
from chalice.local import LocalDevServer, ThreadedHTTPServer

from infra.local.background import AsyncInvoker, Invocable, QueuePoller, Scheduler, StreamPoller, stream_batch_failure
from infra.local.embedded_aws import (
    ACCOUNT_ID,
    LOCAL_DISTRIBUTION_DOMAIN,
    STACK_NAME,
    EmbeddedAws,
    Provisioned,
    function_environment,
    provision,
)
from infra.local.gateway import LocalApi, cors_headers, request_handler_class
from infra.local.iam import LocalIam, function_grants, read_roles
from infra.local.local_routes import LocalRoutes
from infra.local.portal import PortalFiles, chained, portal_config
from infra.local.runtime import FunctionPool
from infra.local.template import ROOT, Function, Schedule, functions, load_template
from pass_culture.auth import verify_id_token
from pass_culture.settings import Settings

log = logging.getLogger("local")


def queue_url(sqs: Any, arn: str) -> str:
    """The URL of the queue an ARN names (the template gives destinations and event sources as ARNs)."""
    return str(sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"])


def schedule_dead_letter(sqs: Any, dlq_url: str) -> Callable[[Schedule, dict[str, Any], Exception], None]:
    """The schedules' DeadLetterConfig: where Scheduler puts an event Lambda kept refusing to accept."""

    def dead_letter(schedule: Schedule, event: dict[str, Any], error: Exception) -> None:
        body = {"schedule": schedule.name, "event": event, "error": str(error)}
        sqs.send_message(QueueUrl=dlq_url, MessageBody=json.dumps(body))

    return dead_letter


def async_invoker(
    function: Function, target: Invocable, provisioned: Provisioned, sqs: Any, **options: Any
) -> AsyncInvoker:
    """Lambda's asynchronous invocation of `function` (run by `target`, its pool of environments), configured by its
    EventInvokeConfig, the on-failure destination resolved to what the embedded AWS created — as the stream's
    on-failure destination is. SQS is the one destination type the local stack runs: another one stops the start
    rather than dropping records silently. `options` go to `AsyncInvoker` (time_scale, clock, sleep)."""
    config = function.async_invoke
    send: Callable[[dict[str, Any]], None] | None = None
    if config.on_failure is not None:
        destination = provisioned.resolver.resolve(config.on_failure)
        if destination.get("Type") != "SQS":
            kind = destination.get("Type")
            raise NotImplementedError(f"{function.logical_id}: on-failure destination type {kind} is not run locally")
        url = queue_url(sqs, str(destination["Destination"]))

        def send_record(record: dict[str, Any]) -> None:
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))

        send = send_record
    arn = str(provisioned.attribute(function.logical_id, "Arn"))
    return AsyncInvoker(target, config, function_arn=arn, on_failure=send, **options)


class GatewayServer(ThreadedHTTPServer):
    """chalice's threaded server with a listen backlog for bursts (socketserver's default of 5 resets connections)."""

    request_queue_size = 256


class LocalStack:
    def __init__(self, port: int = 3000, host: str = "127.0.0.1", log_dir: Path | None = None) -> None:
        self.host, self.port = host, port
        self.log_dir = log_dir or ROOT / ".local" / "logs"
        self.aws = EmbeddedAws(host)
        self.template = load_template()
        self.functions: dict[str, FunctionPool] = {}
        self.init_ms: dict[str, float] = {}
        self._server: LocalDevServer | None = None
        self._scheduler: Scheduler | None = None
        self._poller: StreamPoller | None = None
        self._queue_pollers: list[QueuePoller] = []
        self._async_invokers: list[AsyncInvoker] = []
        self.provisioned: Provisioned | None = None
        self.iam: LocalIam | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def files_bucket(self) -> str:
        assert self.provisioned is not None
        return str(self.provisioned.ref("FilesBucket"))

    @property
    def auth_settings(self) -> Settings:
        assert self.provisioned is not None
        pool_id = self.provisioned.ref("UserPool")
        return Settings.model_validate(
            {
                "TABLE_NAME": self.provisioned.ref("Table"),
                "USER_POOL_ID": pool_id,
                "USER_POOL_CLIENT_ID": self.provisioned.ref("UserPoolClient"),
                "COGNITO_JWKS_URL": f"{self.aws.endpoint}/{pool_id}/.well-known/jwks.json",
                "AWS_REGION": "eu-west-3",
            }
        )

    # -- lifecycle -----------------------------------------------------------------------------------------------
    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if self.port == 0:  # the functions are told the gateway's URL (images) before it listens: choose it now
            with socket.socket() as probe:
                probe.bind((self.host, 0))
                self.port = probe.getsockname()[1]
        self.aws.start()
        # the portal is served by this gateway (/pro/): its origin is the gateway's, the one browsers may call from
        self.provisioned = provision(self.aws, self.template, parameters={"PortalOrigin": self.url})
        settings = self.auth_settings
        declared = functions(self.template)
        credentials = self._function_roles()
        for function in declared:
            environment = function_environment(function.raw_environment, self.provisioned, self.aws)
            environment["COGNITO_JWKS_URL"] = settings.jwks_url
            environment.update(credentials[function.logical_id])  # its own role's, enforced (infra/local/iam.py)
            for name, value in environment.items():  # CloudFront's URLs: the gateway serves the bucket's files
                if LOCAL_DISTRIBUTION_DOMAIN in value:
                    environment[name] = f"{self.url}/_local/files"
            log_path = self.log_dir / f"{function.logical_id}.log"
            self.functions[function.logical_id] = FunctionPool(function, environment, log_path)
        for logical_id, process in self.functions.items():
            self.init_ms[logical_id] = process.wait_ready()
        self._start_gateway(declared)
        self._start_background(declared)

    def _function_roles(self) -> dict[str, dict[str, str]]:
        """Each function's role created in the embedded AWS from the translated template, checked on every call its
        credentials sign; every decision is written to iam-calls.jsonl beside the logs."""
        assert self.provisioned is not None
        roles = read_roles()
        calls_file = self.log_dir / "iam-calls.jsonl"
        calls_file.write_text("", encoding="utf-8")
        self.iam = LocalIam(function_grants(roles, self.provisioned.resolver.resolve), calls_file)
        self.iam.write_grants(self.log_dir / "iam-grants.json")
        self.iam.install(ACCOUNT_ID)
        return self.iam.create_roles(self.aws.client("iam"), self.aws.client("sts"), STACK_NAME, roles)

    def _start_gateway(self, declared: list[Function]) -> None:
        assert self.provisioned is not None
        routes = [(route, self.functions[f.logical_id]) for f in declared for route in f.routes]
        settings = self.auth_settings
        api = LocalApi(
            routes,
            verify_cognito_token=lambda token: verify_id_token(token, settings),
            api_key_authorizer=self.functions.get("ApiKeyAuthorizerFunction"),
            cors=cors_headers(
                self.provisioned.resolver.resolve(self.template["Resources"]["RestApi"]["Properties"].get("Cors"))
            ),
        )
        portal = PortalFiles(self.portal_config)
        handler = request_handler_class(api, chained(portal, LocalRoutes(self)))
        config = Config.create(lambda_timeout=30)
        self._server = LocalDevServer(
            api,  # type: ignore[arg-type]
            config,
            self.host,
            self.port,
            handler_cls=handler,
            server_cls=GatewayServer,
        )
        self.port = self._server.server.server_address[1]
        threading.Thread(
            target=self._server.server.serve_forever, kwargs={"poll_interval": 0.1}, name="gateway", daemon=True
        ).start()

    def _start_background(self, declared: list[Function]) -> None:
        assert self.provisioned is not None
        sqs = self.aws.client("sqs")
        schedules: list[tuple[Schedule, AsyncInvoker]] = []
        for function in declared:
            if function.schedules:  # EventBridge Scheduler invokes its Lambda targets asynchronously
                invoker = async_invoker(function, self.functions[function.logical_id], self.provisioned, sqs)
                self._async_invokers.append(invoker)
                schedules += [(schedule, invoker) for schedule in function.schedules]
        dead_letter = schedule_dead_letter(sqs, str(self.provisioned.ref("SchedulesDLQ")))
        self._scheduler = Scheduler(schedules, dead_letter)
        self._scheduler.start()
        for function in declared:
            for source in function.stream_events:
                resolved = self.provisioned.resolver.resolve(source)
                on_failure_arn = resolved.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination", "")
                on_failure_url = queue_url(sqs, on_failure_arn)

                def on_failure(
                    records: list[dict[str, Any]],
                    reason: str,
                    url: str = on_failure_url,
                    stream: str = resolved["Stream"],
                    function_arn: str = f"arn:aws:lambda:eu-west-3:{ACCOUNT_ID}:function:{function.logical_id}",
                ) -> None:
                    shard = getattr(self._poller, "shard_id", "")
                    failure = stream_batch_failure(records, "RetryAttemptsExhausted", stream_arn=stream, shard_id=shard,
                                                   function_arn=function_arn, at=datetime.now(UTC))  # fmt: skip
                    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(failure))

                self._poller = StreamPoller(
                    self.aws.client("dynamodbstreams"),
                    resolved["Stream"],
                    self.functions[function.logical_id],
                    max_retries=int(resolved.get("MaximumRetryAttempts", 2)),
                    batch_size=int(resolved.get("BatchSize", 100)),
                    on_failure=on_failure,
                    filters=[json.loads(f["Pattern"]) for f in resolved.get("FilterCriteria", {}).get("Filters", [])],
                )
                self._poller.start()
            for source in function.queue_events:
                queue_arn = str(self.provisioned.resolver.resolve(source["Queue"]))
                poller = QueuePoller(
                    self.aws.client("sqs"),
                    queue_url(sqs, queue_arn),
                    queue_arn,
                    self.functions[function.logical_id],
                    batch_size=int(source.get("BatchSize", 10)),
                )
                self._queue_pollers.append(poller)
                poller.start()

    def wait_until_answering(self) -> None:
        with urlopen(f"{self.url}/health", timeout=10) as answer:  # noqa: S310 - loopback
            if answer.status != 200:
                raise RuntimeError(f"/health answered {answer.status}")
        self.aws.client("dynamodb").list_tables(Limit=1)

    def stop(self, grace: float = 1.5) -> None:
        """Stops everything within about `grace` seconds, whatever the data: everything is told to stop at once, the
        function processes get `grace` to finish their invocation (then are killed: the data lives in the embedded
        AWS, nothing is lost), and no thread is waited for longer than that."""
        deadline = time.monotonic() + grace
        if self._scheduler:
            self._scheduler.stop()
        for invoker in self._async_invokers:
            invoker.stop()  # events waiting for a retry are dropped (logged): they live in memory, as the data does
        if self._poller:
            self._poller.stop(timeout=0)
        for poller in self._queue_pollers:
            poller.stop(timeout=0)
        for pool in self.functions.values():
            pool.begin_stop()
        servers = [threading.Thread(target=self.aws.stop, name="stop-aws", daemon=True)]
        if self._server:
            servers.append(threading.Thread(target=self._stop_gateway, name="stop-gateway", daemon=True))
        for thread in servers:
            thread.start()
        for pool in self.functions.values():
            pool.finish_stop(deadline)
        for thread in servers:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
        if self._poller:
            self._poller.stop(timeout=max(0.0, deadline - time.monotonic()))

    def _stop_gateway(self) -> None:
        assert self._server is not None
        self._server.server.shutdown()
        self._server.server.server_close()

    def kill(self) -> None:
        """The last resort (a second Ctrl-C, or a stop that overran): kills every function process now."""
        for pool in self.functions.values():
            pool.kill()

    def portal_config(self) -> dict[str, Any]:
        """The portal's config.json: the API on this gateway, Cognito through its local front (/_local/cognito)."""
        settings = self.auth_settings
        return portal_config("", f"{self.url}/_local/cognito", settings.user_pool_id, settings.user_pool_client_id)

    # -- what the local routes and the seed use ------------------------------------------------------------------
    def create_user(
        self, email: str, password: str, group: str, first_name: str, last_name: str, phone: str | None = None
    ) -> str:
        cognito = self.aws.client("cognito-idp")
        pool_id = self.auth_settings.user_pool_id
        attributes = [
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "given_name", "Value": first_name},
            {"Name": "family_name", "Value": last_name},
        ]
        if phone:
            attributes.append({"Name": "phone_number", "Value": phone})
        user = cognito.admin_create_user(
            UserPoolId=pool_id, Username=email, UserAttributes=attributes, MessageAction="SUPPRESS"
        )["User"]
        cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=password, Permanent=True)
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)
        return str(next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub"))

    def login(self, email: str, password: str) -> str | None:
        """A portal user's ID token (`/_local/login`). In AWS the portal signs in with SRP (its app client allows
        nothing else); moto does not check an app client's flows, so this local convenience sends the password."""
        cognito = self.aws.client("cognito-idp")
        try:
            answer = cognito.initiate_auth(
                ClientId=self.auth_settings.user_pool_client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email, "PASSWORD": password},
            )
        except (cognito.exceptions.NotAuthorizedException, cognito.exceptions.UserNotFoundException):
            return None
        return str(answer["AuthenticationResult"]["IdToken"])

    def schedule_for_job(self, job: str) -> tuple[Schedule, FunctionPool] | None:
        for function in functions(self.template):
            for schedule in function.schedules:
                if schedule.input.get("job") == job:
                    return schedule, self.functions[function.logical_id]
        return None

    def merged_openapi(self) -> dict[str, Any]:
        """One OpenAPI document for the whole API: each function's own document, merged — its paths and every kind
        of component (schemas, securitySchemes, …). Two functions may share a component only if they agree on it."""
        merged: dict[str, Any] = {
            "openapi": "3.1.0",
            "info": {"title": "pass Culture API", "version": "1", "description": "Merged from every function."},
            "servers": [{"url": self.url}],
            "paths": {},
            "components": {"schemas": {}, "securitySchemes": {}},
        }
        api_functions = [f for f in functions(self.template) if f.routes]
        for function in api_functions:
            document = self.functions[function.logical_id].openapi() or {}
            for path, operations in document.get("paths", {}).items():
                for method, operation in operations.items():
                    if method in merged["paths"].get(path, {}):
                        raise ValueError(f"{method.upper()} {path} is served by two functions")
                    merged["paths"].setdefault(path, {})[method] = operation
            for kind, components in document.get("components", {}).items():
                known = merged["components"].setdefault(kind, {})
                for name, component in components.items():
                    if known.setdefault(name, component) != component:
                        raise ValueError(f"components.{kind}.{name} differs between functions ({function.logical_id})")
        merged["info"]["x-generated-at"] = datetime.now(UTC).isoformat()
        return merged
