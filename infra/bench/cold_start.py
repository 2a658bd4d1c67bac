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

from infra.bench.report import summary_line
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


def sample(module: str) -> float:
    """One fresh interpreter importing `module`: its import + init time in ms."""
    env = {**os.environ, **ENVIRONMENT}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "layers" / "shared" / "python")])
    answer = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    return float(answer.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=11)
    arguments = parser.parse_args()
    modules = {"import boto3 (baseline)": "boto3", "boto3 + a DynamoDB client": "infra.bench.first_client"}
    modules.update({f.logical_id: f.module_name for f in functions(load_template())})
    for module in modules.values():
        sample(module)  # warm the file cache and bytecode, as a deployed artifact is
    # Interleaved rounds: the machine's drift (other work on 2 cores) touches the baseline and the functions alike.
    samples: dict[str, list[float]] = {name: [] for name in modules}
    for _ in range(arguments.runs):
        for name, module in modules.items():
            samples[name].append(sample(module))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    baseline = medians["import boto3 (baseline)"]
    print(f"cold start: import + init, median of {arguments.runs} fresh processes (Python {sys.version.split()[0]})")
    worst = 0.0
    for name, median in medians.items():
        ratio = median / baseline
        note = ""
        if name == "boto3 + a DynamoDB client":
            note = "   (paid on a function's first AWS call)"
        elif name in (f.logical_id for f in functions(load_template())):
            worst = max(worst, ratio)
            note = "" if ratio <= GOAL_RATIO else f"   above the {GOAL_RATIO}x goal"
        print(f"{name:<34} {median:7.0f} ms   {ratio:.2f}x{note}")
    print(f"worst: {worst:.2f}x the bare boto3 import (goal <= {GOAL_RATIO}x)")
    print(summary_line("cold start (import + init), worst function", f"{worst:.2f}x `import boto3`",
                       f"≤ {GOAL_RATIO}x", worst <= GOAL_RATIO))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
