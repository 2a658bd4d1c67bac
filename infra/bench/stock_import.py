"""The stock import (issue #10): one venue × 100 000 lines and 10 venues × 10 000 lines, through the real path — the
fake provider over HTTP on loopback, `stock_import.provider.pages`, the worker's `import_venue`, DynamoDB on moto's
server in another process (with the local stack's transactions, `infra/local/moto_transactions.py`).

Figures: lines/s, DynamoDB write calls per changed line (first import; a full re-read of an unchanged feed; a nightly
run where 1 % changed, read with `modifiedSince`), and the worker's peak memory (max RSS of the worker process: the
interpreter and its libraries included: VmHWM). Each run happens in a fresh worker process, as a Lambda instance would.
moto answers slower than DynamoDB (its index queries scan the whole table), so lines/s is a floor.

    make bench                                  # everything
    python -m infra.bench.stock_import --lines 20000 --venues 2 --venue-lines 5000   # a quicker look
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from infra.bench import moto_server
from infra.bench.report import summary_line

WRITE_CALLS = ("TransactWriteItems", "BatchWriteItem", "PutItem", "UpdateItem", "DeleteItem")
LAMBDA_SECONDS = 900


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000, help="lines of the one large venue")
    parser.add_argument("--venues", type=int, default=10)
    parser.add_argument("--venue-lines", type=int, default=10_000)
    arguments = parser.parse_args()
    with moto_server(patched=True):
        return run(arguments.lines, arguments.venues, arguments.venue_lines)


def run(large: int, venues: int, venue_lines: int) -> int:
    from infra.bench import template_table
    from infra.local.fake_provider import FakeProvider, generate_feed
    from pass_culture.accounts.repository import venue_key
    from pass_culture.offers.repository import book_key
    from pass_culture.stock_import.repository import StockImportRepository

    _, table = template_table()
    os.environ["TABLE_NAME"] = table.name
    os.environ["STOCK_IMPORT_QUEUE_URL"] = client_queue_url()
    provider = FakeProvider(token="bench")
    base_url = provider.start()
    repository = StockImportRepository(table)

    feeds = {"large": generate_feed(seed=1, size=large)}
    for n in range(venues):
        feeds[f"v{n}"] = generate_feed(seed=100 + n, size=venue_lines, books=feeds["large"].books)
    started = time.perf_counter()
    catalogue: dict[str, dict[str, Any]] = {}
    for feed in feeds.values():
        for book in csv.DictReader(io.StringIO(feed.catalogue_csv())):
            catalogue[book["ean"]] = {**book_key(book["ean"]), "entity": "BOOK", **book}
    table.put_many(list(catalogue.values()))
    print(f"catalogue: {len(catalogue)} books loaded into moto in {time.perf_counter() - started:.0f} s")

    for n, (name, feed) in enumerate(feeds.items()):
        siret = f"{12345678900000 + n}"
        venue = {
            "id": name, "offererId": "offerer", "name": f"Librairie {name}", "siret": siret, "address": "1 rue",
            "postalCode": "75003", "city": "Paris", "latitude": 48.86, "longitude": 2.35,
            "bookingEmail": "resa@librairie.example", "createdAt": "2026-01-01T00:00:00.000Z",
        }  # fmt: skip
        table.put({**venue_key(name), "entity": "VENUE", **venue})
        provider.add_venue(siret, feed.lines)
        connect(repository, name, base_url)

    night = datetime(2026, 11, 23, 0, tzinfo=UTC)
    print(f"\none venue × {large} lines:")
    first = worker(["large"], night)
    report("first import", first)
    connect(repository, "large", base_url)  # a new connection reads the whole feed again (no modifiedSince)
    report("unchanged feed, read in full", worker(["large"], night + timedelta(days=1)))
    changed = feeds["large"].books[::100]
    for ean in changed:
        provider.update(siret_of(table, "large"), ean, available=42, at=night + timedelta(days=1, hours=12))
    report(f"next night, {len(changed)} lines changed (modifiedSince)", worker(["large"], night + timedelta(days=2)))

    names = [f"v{n}" for n in range(venues)]
    print(f"\n{venues} venues × {venue_lines} lines (one after the other in one worker process):")
    report("first import", worker(names, night))
    for name in names:
        connect(repository, name, base_url)
    report("unchanged feed, read in full", worker(names, night + timedelta(days=1)))
    provider.stop()
    return 0


def client_queue_url() -> str:
    import boto3

    sqs = boto3.client("sqs", region_name="eu-west-3")
    return next(url for url in sqs.list_queues()["QueueUrls"] if "StockImportQueue" in url and "DLQ" not in url)


def connect(repository: Any, venue_id: str, base_url: str) -> None:
    from pass_culture.stock_import.models import StockProviderConnection

    connection = StockProviderConnection(
        provider="titelive", base_url=base_url, token="bench", prices_in_cents=False, connected_at=datetime.now(UTC)
    )
    repository.connect(venue_id, connection)


def siret_of(table: Any, venue_id: str) -> str:
    from pass_culture.accounts.repository import venue_key

    item = table.get(venue_key(venue_id))
    assert item is not None
    return str(item["siret"])


def worker(venue_ids: list[str], at: datetime) -> dict[str, Any]:
    """Runs the import of `venue_ids` in a fresh process; its figures as JSON on stdout."""
    answer = subprocess.run(
        [sys.executable, "-m", "infra.bench.stock_import", "--worker", json.dumps([venue_ids, at.isoformat()])],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ,
    )
    if answer.returncode != 0:
        raise RuntimeError(answer.stderr[-3000:])
    return dict(json.loads(answer.stdout.strip().splitlines()[-1]))


def report(label: str, figures: dict[str, Any]) -> None:
    changed = figures["created"] + figures["updated"]
    per_line = f"{figures['line_writes'] / changed:.3f}" if changed else "—"
    if label == "first import" and changed:
        print(summary_line(f"stock import, first import of {figures['read']} lines: write calls a changed line;"
                           " worker peak memory", f"{per_line}; {figures['max_rss_mb']:.0f} MB", "≤ 0.050",
                           figures["line_writes"] / changed <= 1 / 20))  # fmt: skip
    print(
        f"  {label}: {figures['read']} lines in {figures['seconds']:.1f} s ({figures['read'] / figures['seconds']:.0f}"
        f" lines/s, {figures['invocations']} invocation(s); {figures['dynamodb_seconds']:.1f} s of it waiting for"
        f" moto, {figures['read'] / max(0.001, figures['seconds'] - figures['dynamodb_seconds']):.0f} lines/s"
        f" without); created {figures['created']}, updated"
        f" {figures['updated']}, unchanged {figures['unchanged']}, rejected {figures['rejected']}; write calls for"
        f" lines {figures['line_writes']} ({per_line} a changed line), for the report {figures['report_writes']};"
        f" peak RSS {figures['max_rss_mb']:.0f} MB; moto's time by call (s): {figures['dynamodb_seconds_by_call']}"
    )


def peak_rss_mb() -> float:
    """This process's own peak resident memory (VmHWM). Not getrusage's ru_maxrss: Linux carries it across exec
    from the parent that spawned the process (vfork), so it showed the benchmark's parent, not the worker."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: the best there is


def invocation_deadline(started: float) -> Callable[[], bool]:
    """The worker's rule in a 900 s Lambda invocation: no new page in its last 300 s (`SAFETY_MARGIN_MS`)."""
    return lambda: time.perf_counter() - started > LAMBDA_SECONDS - 300


def run_worker(argument: str) -> int:
    """The worker process: the handler's path without SQS's envelope, a 900 s budget an invocation."""
    venue_ids, at = json.loads(argument)
    from pass_culture import aws
    from pass_culture.stock_import.queue import ImportRequest, build_import_queue
    from pass_culture.stock_import.service import build_stock_importer
    from pass_culture.stock_import.worker import import_venue

    calls: list[str] = []
    waiting: list[float] = []  # -sent, +received: their sum is the time spent waiting for DynamoDB (moto)
    events = aws.dynamodb().meta.events
    events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    by_call: dict[str, float] = {}

    def received(**_: Any) -> None:
        waiting.append(time.perf_counter())
        by_call[calls[-1]] = by_call.get(calls[-1], 0.0) + waiting[-1] + waiting[-2]

    events.register("before-send.dynamodb", lambda **_: waiting.append(-time.perf_counter()))
    events.register("response-received.dynamodb", received)
    importer, queue = build_stock_importer(), build_import_queue()
    totals = {"read": 0, "created": 0, "updated": 0, "unchanged": 0, "rejected": 0, "invocations": 0}
    line_writes = report_writes = 0
    started = time.perf_counter()
    for venue_id in venue_ids:
        request = ImportRequest(venue_id=venue_id, time=datetime.fromisoformat(at))
        status = "RUNNING"
        while status == "RUNNING":  # a run that nears the deadline re-queues itself: the next invocation resumes
            calls.clear()
            answer = import_venue(
                importer,
                queue,
                request,
                deadline_reached=invocation_deadline(time.perf_counter()),
                allow_loopback=True,  # the fake provider on loopback, as in the local stack
            )
            status = answer["status"]
            totals["invocations"] += 1
            # The lines are written by TransactWriteItems; the report by PutItem (created, checkpoints) and one
            # TransactWriteItems at the end (the report and the venue's lastImportStartedAt together).
            ended = 1 if status != "RUNNING" else 0
            line_writes += calls.count("TransactWriteItems") - ended
            report_writes += sum(call in WRITE_CALLS and call != "TransactWriteItems" for call in calls) + ended
        for name in ("read", "created", "updated", "unchanged"):
            totals[name] += int(answer[name])
        totals["rejected"] += sum(answer["rejected"].values())
    figures = {
        **totals,
        "seconds": time.perf_counter() - started,
        "dynamodb_seconds": sum(waiting),
        "dynamodb_seconds_by_call": {name: round(seconds, 1) for name, seconds in sorted(by_call.items())},
        "line_writes": line_writes,
        "report_writes": report_writes,
        "max_rss_mb": peak_rss_mb(),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        sys.exit(run_worker(sys.argv[2]))
    sys.exit(main())
