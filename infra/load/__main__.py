"""`make load` (`python -m infra.load --users 200 --duration 60`): a load test on loopback through the local gateway.

1. starts the local stack on a free port, without its small seed: `python -m infra.local`, as `make run` runs it;
2. seeds realistic data through its embedded AWS with the domain's services (infra/load/seed.py);
3. runs locust headless in its own process, bounded in time and users (infra/load/locustfile.py);
4. waits for the stream to drain (the booking emails), then checks the invariants from the table and the outbox
   (infra/load/invariants.py), and no 5xx;
5. prints the report — p50/p95/p99 per operation, requests, failures and error rate, the invariants — and writes it
   to docs/benchmarks.md under `## Load test (make load)` (only that section is replaced).

Exits 1 when an invariant fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from boto3.dynamodb.types import TypeDeserializer

from infra.bench import report
from infra.load import invariants
from infra.load.seed import Sizes, aws_client, parallel, seed
from infra.local import launcher
from infra.local.template import ROOT

SECTION = "## Load test (make load)"
OPERATIONS = ("search", "offer", "book", "cancel", "counter lookup", "validation")


def launch(log_dir: Path) -> launcher.LaunchedStack:
    """The local stack on a free port, without its small seed: `python -m infra.local` (what `make run` runs)."""
    return launcher.launch(log_dir, "--no-seed")


def scan(endpoint: str) -> list[dict[str, Any]]:
    dynamodb = aws_client(endpoint, "dynamodb")
    table = dynamodb.list_tables()["TableNames"][0]
    deserializer = TypeDeserializer()
    items = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        items += [{k: deserializer.deserialize(v) for k, v in item.items()} for item in page["Items"]]
    return items


def read_outbox(url: str, recipients: set[str]) -> dict[str, list[dict[str, Any]]]:
    session = requests.Session()

    def emails(to: str) -> tuple[str, list[dict[str, Any]]]:
        answer = session.get(f"{url}/_local/outbox", params={"to": to, "limit": "1000"}, timeout=30)
        answer.raise_for_status()
        return to, list(answer.json()["items"])

    return dict(parallel(emails, sorted(recipients), workers=8))


def wait_for_welcomes(url: str, emails: list[str], within: float = 300) -> float:
    """Waits until the stream has sent the welcome emails of the last beneficiaries registered (so the load does not
    share the stack with the seed's emails); the seconds waited."""
    started = time.monotonic()
    waiting = set(emails)
    while waiting and time.monotonic() - started < within:
        waiting = {to for to, sent in read_outbox(url, waiting).items() if not sent}
        time.sleep(1 if waiting else 0)
    return time.monotonic() - started


def warm_up(url: str, seeded: Any, seconds: float, threads: int = 12) -> int:
    """Reads only (searches, offers, `GET /me/bookings`), `threads` at a time for `seconds`: the functions' pools
    start their environments (cold starts) before the measured load, as a deployed stack has warm ones. Returns the
    requests made; their answers are not judged."""
    rng = random.Random(7)  # noqa: S311 - which reads, not a secret
    deadline = time.monotonic() + seconds

    def loop(_: int) -> int:
        session, made = requests.Session(), 0
        while time.monotonic() < deadline:
            lat, lon = rng.choice(seeded.cities)
            young = rng.choice(seeded.beneficiaries)
            for path, headers in (
                (f"/offers?lat={lat}&lon={lon}&radiusKm=5", {}),
                (f"/offers/{rng.choice(seeded.stocks).offer_id}", {}),
                ("/me/bookings", {"Authorization": f"Bearer {young['token']}"}),
            ):
                with contextlib.suppress(requests.RequestException):
                    session.get(url + path, headers=headers, timeout=30)
                made += 1
        return made

    return sum(parallel(loop, range(threads), workers=threads))


def wait_for_emails(url: str, endpoint: str, patience: float) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The table and the outbox once every booking has its emails, or once nothing new was sent for `patience` s."""
    last_count, last_change = -1, time.monotonic()
    while True:
        items = scan(endpoint)
        bookings = invariants.bookings_of(items)
        recipients = {str(b["bookingEmail"]).lower() for b in bookings}
        recipients |= {str(b["beneficiary"]["email"]).lower() for b in bookings}
        outbox = read_outbox(url, recipients)
        if invariants.two_emails(items, outbox).ok:
            return items, outbox
        count = sum(len(emails) for emails in outbox.values())
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        elif time.monotonic() - last_change > patience:
            return items, outbox
        time.sleep(2)


@dataclass(frozen=True)
class Operation:
    name: str
    requests: int
    failures: int
    max_ms: float
    histogram: dict[int, int]  # locust's response times, rounded as it rounds them -> count

    def percentile(self, share: float) -> int:
        """The smallest recorded time with at least `share` of the requests at or below it."""
        wanted, seen = max(1, math.ceil(share * sum(self.histogram.values()))), 0
        for time_ms in sorted(self.histogram):
            seen += self.histogram[time_ms]
            if seen >= wanted:
                return time_ms
        return 0


def read_stats(path: Path) -> list[Operation]:
    """locust's final statistics (`--json-file`), one entry per operation, and all of them together last."""
    entries = json.loads(path.read_text(encoding="utf-8"))
    operations = []
    for entry in entries:
        histogram = {int(float(ms)): int(count) for ms, count in entry["response_times"].items()}
        operations.append(
            Operation(
                entry["name"], entry["num_requests"], entry["num_failures"], entry["max_response_time"], histogram
            )
        )
    everything: dict[int, int] = defaultdict(int)
    for operation in operations:
        for time_ms, count in operation.histogram.items():
            everything[time_ms] += count
    total = Operation(
        "all",
        sum(o.requests for o in operations),
        sum(o.failures for o in operations),
        max((o.max_ms for o in operations), default=0),
        dict(everything),
    )
    order = {name: position for position, name in enumerate(OPERATIONS)}
    return [*sorted(operations, key=lambda o: order.get(o.name, len(order))), total]


def table_of(stats: list[Operation], outcomes: Mapping[str, int], duration: float) -> list[str]:
    refused: dict[str, int] = defaultdict(int)
    for key, count in outcomes.items():
        name, status, _ = key.split("|", 2)
        if 400 <= int(status) < 500:
            refused[name] += count
    lines = [
        "| operation | requests | req/s | p50 | p95 | p99 | max | failures | error rate | refusals (4xx expected) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for operation in stats:
        rate = f"{100 * operation.failures / operation.requests:.2f} %" if operation.requests else "-"
        label = "**all**" if operation.name == "all" else operation.name
        refusals = sum(refused.values()) if operation.name == "all" else refused.get(operation.name, 0)
        lines.append(
            f"| {label} | {operation.requests} | {operation.requests / duration:.1f} | {operation.percentile(0.5)} ms"
            f" | {operation.percentile(0.95)} ms | {operation.percentile(0.99)} ms | {operation.max_ms:.0f} ms"
            f" | {operation.failures} | {rate} | {refusals} |"
        )
    return lines


def refusal_lines(outcomes: Mapping[str, int]) -> list[str]:
    by_operation: dict[str, list[str]] = defaultdict(list)
    for key, count in sorted(outcomes.items(), key=lambda pair: -pair[1]):
        operation, status, code = key.split("|", 2)
        by_operation[operation].append(f"{status}{' ' + code if code else ''} × {count}")
    return [f"- {op}: {', '.join(by_operation[op])}" for op in OPERATIONS if op in by_operation]


def load_report(
    arguments: argparse.Namespace,
    seeded_line: str,
    stats: list[Operation],
    outcomes: Mapping[str, int],
    results: list[invariants.Result],
    timing: str,
) -> str:
    think = arguments.think.replace("-", "–")
    command = f"make load USERS={arguments.users} DURATION={arguments.duration}"
    full = (
        f"python -m infra.load --users {arguments.users} --duration {arguments.duration}"
        f" --spawn-rate {arguments.spawn_rate:g} --think {arguments.think}"
    )
    moto = (
        "moto's DynamoDB item answers written as plain JSON, as `make run` does (infra/local/moto_answers.py: its"
        " generic serializer was two thirds of the embedded AWS's busy time under load)"
    )
    lines = [
        SECTION,
        "",
        f"`{command}` (`{full}`), {report.run_line()}. The whole local stack"
        " — the gateway, every function's processes and the embedded AWS (moto, one request at a time) — and locust"
        f" on the same machine, over loopback; {moto}.",
        "",
        f"Data: {seeded_line}. Users: {arguments.users} (young people and counter software, 6 to 1), spawned at"
        f" {arguments.spawn_rate:g}/s, each thinking {think} s between two requests; {arguments.duration} s."
        f" {timing}",
        "",
        *table_of(stats, outcomes, arguments.duration),
        "",
        "Latencies are what the users saw through the gateway (locust's percentiles, rounded as it rounds them). A"
        " failure is any answer the contract does not expect; refusals the contract declares (sold out, already"
        " booked, not enough credit, used or cancelled) are answers, counted here by status and code:",
        "",
        *refusal_lines(outcomes),
        "",
        "Invariants, checked from the table (a Scan) and the outbox after the stream drained:",
        "",
        *[f"- {result.line()}" for result in results],
        "",
    ]
    return "\n".join(lines)


def summary_rows(stats: list[Operation], results: list[invariants.Result]) -> list[report.Row]:
    everything = next(operation for operation in stats if operation.name == "all")
    errors = 100 * everything.failures / everything.requests if everything.requests else 0.0
    broken = [result.name for result in results if not result.ok]
    return [
        report.Row("load test: requests, error rate", f"{everything.requests}, {errors:.2f} %", "—", "—"),
        report.Row(
            "load test: p50 / p95 / p99",
            f"{everything.percentile(0.5)} / {everything.percentile(0.95)} / {everything.percentile(0.99)} ms",
            "—",
            "—",
        ),
        report.Row(
            "load test: invariants (oversell, credits, two emails, no 5xx)",
            "all hold" if not broken else "broken: " + ", ".join(broken),
            "all hold",
            "yes" if not broken else "**no**",
        ),
    ]


def run_locust(url: str, data: Path, work: Path, arguments: argparse.Namespace) -> tuple[Path, dict[str, int]]:
    stats, outcomes = work / "stats.json", work / "outcomes.json"
    env = {
        **os.environ,
        "LOAD_DATA": str(data),
        "LOAD_OUTCOMES": str(outcomes),
        "LOAD_THINK": ",".join(arguments.think.split("-")),
    }
    command = [
        sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("locustfile.py")), "--headless",
        "--host", url, "--users", str(arguments.users), "--spawn-rate", str(arguments.spawn_rate),
        "--run-time", f"{arguments.duration}s", "--stop-timeout", "30", "--json-file", str(stats.with_suffix("")),
        "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
    ]  # fmt: skip
    subprocess.run(command, env=env, cwd=ROOT, check=True, timeout=arguments.duration + 180)
    return stats, json.loads(outcomes.read_text(encoding="utf-8"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--spawn-rate", type=float, default=5, help="users started a second")
    parser.add_argument("--think", default="20-40", help="each user's wait between two requests, MIN-MAX seconds")
    parser.add_argument("--warm-up", type=float, default=20, help="seconds of reads before the load (cold starts)")
    parser.add_argument("--offers", type=int, default=3000)
    parser.add_argument("--beneficiaries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true", help="print the report only")
    arguments = parser.parse_args(argv)
    sizes = Sizes(
        offers=arguments.offers,
        beneficiaries=arguments.beneficiaries,
        active=min(arguments.beneficiaries, max(arguments.users, 50) + 100),
    )
    work = Path(tempfile.mkdtemp(prefix="load-"))
    started = time.monotonic()
    print(f"starting the local stack (logs: {work / 'logs'})", flush=True)
    stack = launch(work / "logs")
    try:
        print(f"  ready on {stack.url}; seeding", flush=True)
        seeded = seed(stack.url, stack.aws_endpoint, sizes, random.Random(arguments.seed))  # noqa: S311
        last = [f"jeune{n}@load.example" for n in range(max(0, seeded.registered - 40), seeded.registered)]
        print(f"  waiting for the welcome emails ({wait_for_welcomes(stack.url, last):.0f} s)", flush=True)
        seed_s = time.monotonic() - started
        warmed = warm_up(stack.url, seeded, arguments.warm_up)
        print(f"  warm-up: {warmed} reads in {arguments.warm_up:g} s", flush=True)
        data = work / "data.json"
        data.write_text(json.dumps(seeded.to_json()), encoding="utf-8")
        seeded_line = (
            f"{seeded.offers} offers ({sum(s.hot for s in seeded.stocks)} with 1–3 places, the contention) at"
            f" {sizes.offerers * sizes.venues_per_offerer} venues of {sizes.offerers} offerers in"
            f" {len(seeded.cities)} cities, {seeded.registered} beneficiaries ({len(seeded.beneficiaries)} logged in)"
        )
        print(f"seeded in {seed_s:.0f} s; locust: {arguments.users} users for {arguments.duration} s", flush=True)
        stats_file, outcomes = run_locust(stack.url, data, work, arguments)
        drain_started = time.monotonic()
        items, outbox = wait_for_emails(stack.url, stack.aws_endpoint, patience=30)
        drained_s = time.monotonic() - drain_started
        results = invariants.check(items, outbox, outcomes)
        bookings = invariants.bookings_of(items)
        statuses: dict[str, int] = defaultdict(int)
        for booking in bookings:
            statuses[str(booking["status"])] += 1
        timing = (
            f"Set-up (stack and seed) {seed_s:.0f} s, then {warmed} reads in {arguments.warm_up:g} s to warm the"
            f" functions up (not counted); the checks read the table {drained_s:.0f} s after the load ended, once"
            " the stream had sent the bookings' emails (or sent nothing for 30 s)."
            f" Bookings in the table at the end: {len(bookings)} "
            f"({', '.join(f'{count} {status}' for status, count in sorted(statuses.items()))})."
        )
        text = load_report(arguments, seeded_line, read_stats(stats_file), outcomes, results, timing)
    finally:
        try:
            stack.stop()
        except subprocess.TimeoutExpired:
            print("the local stack did not stop in time: killed", file=sys.stderr)
    print()
    print(text)
    if not arguments.no_write:
        report.write_section(text, arguments.output)
        report.write_summary(
            summary_rows(read_stats(stats_file), results), "make load", report.stamp(), arguments.output
        )
        print(f"written to {arguments.output}")
    return 0 if all(result.ok for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
