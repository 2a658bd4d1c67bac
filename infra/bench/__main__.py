"""`make bench`: every benchmark in turn, each in a fresh process, and its report written to docs/benchmarks.md (its own
section, with the command, the date, the commit and the machine; its summary rows in the table at the top).

    python -m infra.bench                          # all of them (hours: stock import, daily jobs, payouts)
    python -m infra.bench handlers throughput      # some of them
    python -m infra.bench --list
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from infra.bench import report
from infra.local.template import ROOT


@dataclass(frozen=True)
class Benchmark:
    name: str
    title: str
    what: str  # one sentence: what is measured, against what

    @property
    def command(self) -> str:
        return f"python -m infra.bench.{self.name}"


BENCHMARKS = (
    Benchmark("cold_start", "Cold start (import + init)", "a fresh process's import and module init of each function,"
              " beside `import boto3`, median of 11 interleaved rounds."),
    Benchmark("first_answer", "Cold start to first answer", "a fresh process's import, init and first request with its"
              " AWS calls (against the embedded AWS on loopback), beside the floor `import boto3` + a client + one"
              " GetItem measured in the same rounds; median of the rounds."),
    Benchmark("handlers", "Handler overhead and DynamoDB round trips", "each API operation's time in our code outside"
              " its AWS calls (botocore's own work counted as AWS's), p50/p99 over 1 000 requests in process against"
              " moto, and its DynamoDB round trips from a botocore hook."),
    Benchmark("throughput", "Booking throughput", "bookings through the local stack (gateway, token check, the"
              " function's pool, the stream's emails) beside raw DynamoDB calls on the same embedded AWS, in"
              " alternating rounds of one run; the ratio is the median of the rounds' ratios."),
    Benchmark("search", "Search work", "cells, DynamoDB Queries and time of a search at several latitudes and radii."),
    Benchmark("export", "CSV export", "the pro's CSV export of 10 000 bookings: calls, time and peak memory."),
    Benchmark("peak_simulation", "Peak simulation", "a 10 000-place event opening at 20:00: writes per item per"
              " second and throttles, one stock item beside the sharded stock (docs/scale.md)."),
    Benchmark("stock_import", "Stock import", "the nightly import at the sizes of its issue (100 000 lines, 10 venues"
              " × 10 000), items written per changed line and the worker's peak memory."),
    Benchmark("daily_jobs", "Daily jobs", "auto-validation and expiry with 50 000 candidates among 500 000 and 1.5"
              " million bookings: items read per candidate, calls, time."),
    Benchmark("payouts", "Payouts", "the biweekly batch at the size of its issue (100 000 bookings, 2 000 venues):"
              " items read, calls, time, peak memory."),
)  # fmt: skip


def run(benchmark: Benchmark) -> int:
    started_at, started = datetime.now(UTC), time.monotonic()
    run_line, stamp = report.run_line(started_at), report.stamp(started_at)  # the commit the benchmark runs on
    print(f"== {benchmark.command}", flush=True)
    path = os.pathsep.join([str(ROOT), str(ROOT / "layers" / "shared" / "python")])  # as the Makefile exports it
    answer = subprocess.run([sys.executable, "-m", f"infra.bench.{benchmark.name}"], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, check=False, env={**os.environ, "PYTHONPATH": path})  # fmt: skip
    print(answer.stdout, flush=True)
    if answer.returncode != 0:
        print(f"{benchmark.command} failed (exit {answer.returncode}): docs/benchmarks.md left as it was", flush=True)
        return answer.returncode
    minutes = (time.monotonic() - started) / 60
    section = "\n".join([
        f"## {benchmark.title}",
        "",
        f"`{benchmark.command}` (in `make bench`), {run_line}; {minutes:.1f} min: {benchmark.what}",
        "",
        report.as_markdown(answer.stdout),
        "",
    ])  # fmt: skip
    report.write_section(section)
    rows = [row for line in answer.stdout.splitlines() if (row := report.parse_summary(line))]
    report.write_summary(rows, benchmark.command, stamp)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.bench")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--list", action="store_true")
    arguments = parser.parse_args()
    known = {benchmark.name: benchmark for benchmark in BENCHMARKS}
    if arguments.list:
        print("\n".join(f"{b.name:<16} {b.what}" for b in BENCHMARKS))
        return 0
    unknown = [name for name in arguments.names if name not in known]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(known)}")
    chosen = [known[name] for name in arguments.names] or list(BENCHMARKS)
    failed = [benchmark.name for benchmark in chosen if run(benchmark) != 0]
    print(
        f"docs/benchmarks.md: {len(chosen) - len(failed)} section(s) written"
        + (f"; failed: {failed}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
