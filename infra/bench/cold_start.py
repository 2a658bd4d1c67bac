"""Cold start of every function: import + module init in a fresh interpreter, median of N runs, beside a bare
`import boto3` measured in the same run. Goal (issue #2): no function above 1.6x the bare boto3 import.

`make bench` runs it; `python -m infra.bench.cold_start --runs 15` for tighter medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

from infra.local.template import ROOT, functions, load_template

GOAL_RATIO = 1.6
PROBE = (
    "import importlib, time\n"
    "started = time.perf_counter()\n"
    "importlib.import_module({module!r})\n"
    "print((time.perf_counter() - started) * 1000)\n"
)
ENVIRONMENT = {
    "TABLE_NAME": "bench-table",
    "AWS_DEFAULT_REGION": "eu-west-3",
    "AWS_REGION": "eu-west-3",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "PYTHONDONTWRITEBYTECODE": "0",
}


def measure(module: str, runs: int) -> float:
    env = {**os.environ, **ENVIRONMENT}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "layers" / "shared" / "python")])
    samples = []
    for _ in range(runs):
        answer = subprocess.run(
            [sys.executable, "-c", PROBE.format(module=module)],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        )
        samples.append(float(answer.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    arguments = parser.parse_args()
    measure("boto3", 2)  # warm the file cache and bytecode, as a deployed artifact is
    baseline = measure("boto3", arguments.runs)
    print(f"cold start: import + init, median of {arguments.runs} fresh processes (Python {sys.version.split()[0]})")
    print(f"{'import boto3 (baseline)':<34} {baseline:7.0f} ms   1.00x")
    client = measure("infra.bench.first_client", arguments.runs)
    note = "(paid on a function's first AWS call)"
    print(f"{'boto3 + a DynamoDB client':<34} {client:7.0f} ms   {client / baseline:.2f}x   {note}")
    worst = 0.0
    for function in functions(load_template()):
        measure(function.module_name, 1)
        median = measure(function.module_name, arguments.runs)
        ratio = median / baseline
        worst = max(worst, ratio)
        flag = "" if ratio <= GOAL_RATIO else f"   above the {GOAL_RATIO}x goal"
        print(f"{function.logical_id:<34} {median:7.0f} ms   {ratio:.2f}x{flag}")
    print(f"worst: {worst:.2f}x the bare boto3 import (goal <= {GOAL_RATIO}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
