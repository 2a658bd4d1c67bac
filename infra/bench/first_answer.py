"""Cold start to first answer: a fresh process imports an API function, runs its init, and answers its first request,
that request's first AWS calls included (against the embedded AWS on loopback), beside the floor measured in the same
run: a fresh process that imports boto3, builds one client and makes one GetItem. Goal (issue #15): every API function
at most 1.2x the floor. Median of N rounds, the floor and the functions interleaved in each round (the machine's drift
touches them alike).

    python -m infra.bench.first_answer             # 7 rounds
    python -m infra.bench.first_answer --runs 11
    python -m infra.bench.first_answer --profile BookingsApiFunction   # where its first answer's time goes (cProfile)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
from typing import Any

from infra.bench.report import summary_line
from infra.local.template import ROOT, functions, load_template

GOAL_RATIO = 1.2
FLOOR = (
    "import time\n"
    "started = time.perf_counter()\n"
    "import boto3\n"
    "client = boto3.client('dynamodb')\n"
    "client.get_item(TableName={table!r}, Key={{'PK': {{'S': 'HEALTH'}}, 'SK': {{'S': 'HEALTH'}}}})\n"
    "print((time.perf_counter() - started) * 1000)\n"
)
PROBE = (
    "import importlib, json, sys, time\n"
    "started = time.perf_counter()\n"
    "module = importlib.import_module({module!r})\n"
    "from tests.events import FakeContext\n"
    "answer = module.lambda_handler(json.loads(sys.argv[1]), FakeContext())\n"
    "elapsed = (time.perf_counter() - started) * 1000\n"
    "policy = answer.get('policyDocument', {{}}).get('Statement', [{{}}])[0]\n"
    "status = answer.get('statusCode') or policy.get('Effect')\n"
    "print(json.dumps([elapsed, status]))\n"
)


def routed(method: str, resource: str, claims: dict[str, str] | None = None, **parameters: str) -> dict[str, Any]:
    """API Gateway's event for a route with path parameters: the path, its resource and its parameters."""
    from tests.events import api_event

    return api_event(method, resource.format(**parameters), resource=resource, path_parameters=parameters,
                     claims=claims)  # fmt: skip


def first_requests(state: dict[str, Any]) -> dict[str, tuple[dict[str, Any], Any]]:
    """Each API function's first request (one that calls AWS) and the answer expected."""
    from tests.events import api_event, claims_of

    young, admin = claims_of("beneficiary", state["young"]), claims_of("admin", "admin")
    pro_key = {"offererId": state["offerer_id"], "apiKeyId": state["api_key_id"]}
    authorizer_event = {"type": "REQUEST", "methodArn": "arn:aws:execute-api:eu-west-3:1:api/dev/GET/v2/bookings",
                        "headers": {"Authorization": f"Bearer {state['api_key']}"}}  # fmt: skip
    return {
        "ApiKeyAuthorizerFunction": (authorizer_event, "Allow"),
        "PlatformApiFunction": (api_event("GET", "/admin/job-runs", query={"job": "payouts"}, claims=admin), 200),
        "AccountsApiFunction": (api_event("GET", "/me", claims=young), 200),
        "OffersApiFunction": (routed("GET", "/offers/{offerId}", offerId=state["offer_id"]), 200),
        "StockImportApiFunction": (
            routed("GET", "/venues/{venueId}/stock-imports", claims_of("pro", "pro"), venueId=state["venue_id"]),
            200,
        ),
        "BookingsApiFunction": (api_event("GET", "/me/bookings", claims=young), 200),
        "CounterApiFunction": (
            api_event(
                "GET",
                "/v2/bookings/token/AAAAAA",
                resource="/v2/bookings/token/{token}",
                path_parameters={"token": "AAAAAA"},
                authorizer=pro_key,
            ),
            404,
        ),
    }


PROFILED = (
    "import cProfile, pstats\n"
    "profile = cProfile.Profile()\n"
    "profile.enable()\n"
    "{probe}\n"
    "profile.disable()\n"
    "pstats.Stats(profile).sort_stats('cumulative').print_stats(45)\n"
)


def run(code: str, environment: dict[str, str], *arguments: str) -> str:
    answer = subprocess.run([sys.executable, "-c", code, *arguments], capture_output=True, text=True,
                            env=environment, cwd=ROOT, check=False, timeout=120)  # fmt: skip
    if answer.returncode != 0:
        raise SystemExit(answer.stderr[-2000:])
    return answer.stdout.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--profile", metavar="FUNCTION", help="profile one function's first answer instead")
    arguments = parser.parse_args()
    from infra.bench.handlers import world
    from infra.local.embedded_aws import EmbeddedAws, provision

    aws = EmbeddedAws()
    aws.start()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the embedded AWS's request lines
    base = {**os.environ, **aws.environment(), "POWERTOOLS_TRACE_DISABLED": "true", "PYTHONDONTWRITEBYTECODE": "0",
            "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "shared" / "python")])}  # fmt: skip
    os.environ.update(aws.environment())
    provisioned = provision(aws, load_template())
    declared = {f.logical_id: f for f in functions(load_template())}
    environments = {}
    for logical_id, function in declared.items():
        resolved = {name: str(provisioned.resolver.resolve(value)) for name, value in function.raw_environment.items()}
        environments[logical_id] = {**base, **resolved}
    os.environ.update(environments["AccountsApiFunction"])
    from pass_culture import aws as clients
    from pass_culture.settings import get_settings

    get_settings.cache_clear()
    clients.client.cache_clear()
    state = world()
    requests = first_requests(state)
    if arguments.profile:
        event, _ = requests[arguments.profile]
        probe = PROBE.format(module=declared[arguments.profile].module_name)
        code = PROFILED.format(probe=probe)
        run(probe, environments[arguments.profile], json.dumps(event))  # bytecode and file cache warm, as in a run
        answer = subprocess.run([sys.executable, "-c", code, json.dumps(event)], capture_output=True, text=True,
                                env=environments[arguments.profile], cwd=ROOT, check=False, timeout=120)  # fmt: skip
        aws.stop()
        print(answer.stdout, answer.stderr[-2000:])
        return answer.returncode
    floor_code = FLOOR.format(table=str(provisioned.ref("Table")))
    samples: dict[str, list[float]] = {"floor": [], **{name: [] for name in requests}}
    try:
        for round_ in range(arguments.runs + 1):  # the first round warms the file cache and bytecode
            floor = float(run(floor_code, base))
            if round_:
                samples["floor"].append(floor)
            for name, (event, expected) in requests.items():
                module = declared[name].module_name
                elapsed, status = json.loads(run(PROBE.format(module=module), environments[name], json.dumps(event)))
                if status != expected:
                    raise SystemExit(f"{name}: answered {status}, expected {expected}")
                if round_:
                    samples[name].append(elapsed)
    finally:
        aws.stop()
    medians = {name: statistics.median(values) for name, values in samples.items()}
    floor = medians["floor"]
    print(f"cold start to first answer: import + init + first request (its AWS calls against the embedded AWS), "
          f"median of {arguments.runs} fresh processes (Python {sys.version.split()[0]})")  # fmt: skip
    print(f"{'floor: import boto3 + a client + one GetItem':<46} {floor:7.0f} ms   1.00x")
    worst, worst_name = 0.0, ""
    for name, median in medians.items():
        if name == "floor":
            continue
        ratio = median / floor
        if ratio > worst:
            worst, worst_name = ratio, name
        print(f"{name:<46} {median:7.0f} ms   {ratio:.2f}x{'' if ratio <= GOAL_RATIO else '   above the goal'}")
    print(f"worst: {worst:.2f}x the floor (goal <= {GOAL_RATIO}x)")
    figure, measured = f"cold start to first answer, worst API function ({worst_name})", f"{worst:.2f}x the floor"
    print(summary_line(figure, f"{measured} ({floor:.0f} ms)", f"≤ {GOAL_RATIO}x", worst <= GOAL_RATIO))
    return 0


if __name__ == "__main__":
    sys.exit(main())
