"""The daily jobs (issue #11): 50 000 candidates for each job among 500 000 bookings of other statuses and dates, then
the same day's run again after 10× more already-handled bookings. Through the real path — `DailyJobs` with its
repository, SQS for the fan-out and the worker's `handle_chunk` for every queued chunk — against moto in process with
the local stack's patches (transactions and GSI queries at DynamoDB's cost: `infra/local/moto_transactions.py`,
`infra/local/moto_indexes.py`).

Figures per job: items read per candidate (Query's ScannedCount + items of GetItem, from the botocore hook: every read
the job and the worker make), DynamoDB calls, the job's run time (it handles 2 000 itself and queues the rest), the
worker's time for every chunk one after the other (in AWS they run side by side), and the ratio of the run times with
10× more handled bookings in the table (goal: 1, i.e. unchanged). Each table size runs in a fresh process.

The table is seeded straight into moto's storage (its own PutItem costs O(attributes²) per item, a moto artefact);
everything the jobs do goes through boto3.

    make bench                                             # everything
    python -m infra.bench.daily_jobs --candidates 5000 --others 50000    # a quicker look
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from infra.bench.report import summary_line

ACCOUNT, REGION = "123456789012", "eu-west-3"
OFFERS, BENEFICIARIES = 5_000, 20_000
HANDLED_SHARE = 0.2  # of the other bookings: USED, CANCELLED or REIMBURSED, out of every index of the jobs


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candidates", type=int, default=50_000, help="per job")
    parser.add_argument("--others", type=int, default=500_000, help="bookings of other statuses and dates")
    parser.add_argument("--handled-factor", type=int, default=10, help="the second run: this many times more handled")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: one table size, in this process
    arguments = parser.parse_args()
    if arguments.one:
        print(json.dumps(run_once(arguments.candidates, arguments.others, int(arguments.one))))
        return 0
    base_handled = round(arguments.others * HANDLED_SHARE)
    runs = []
    for extra in (0, base_handled * (arguments.handled_factor - 1)):
        command = [sys.executable, "-m", "infra.bench.daily_jobs", "--candidates", str(arguments.candidates),
                   "--others", str(arguments.others), "--one", str(extra)]  # fmt: skip
        answer = subprocess.run(command, check=False, capture_output=True, text=True)
        if answer.returncode != 0:
            sys.stderr.write(answer.stderr)
            return answer.returncode
        runs.append(json.loads(answer.stdout))
    report(runs, base_handled)
    return 0


def report(runs: list[dict[str, Any]], base_handled: int) -> None:
    small, large = runs
    handled_after = base_handled + large["extraHandled"]
    print(f"Daily jobs: {small['candidates']} candidates per job; bookings in the table: {small['bookings']} "
          f"({base_handled} handled), then {large['bookings']} ({handled_after} handled)")  # fmt: skip
    print("| job | bookings in the table | items read / candidate | DynamoDB calls | job run | worker (chunks in turn) "
          "| done |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for run in runs:
        for job, figures in run["jobs"].items():
            print(f"| {job} | {run['bookings']} | {figures['readsPerCandidate']:.3f} | {figures['calls']} | "
                  f"{figures['jobSeconds']:.1f} s | {figures['workerSeconds']:.1f} s "
                  f"| {figures['done']} ({figures['chunks']} chunks) |")  # fmt: skip
    for job in small["jobs"]:
        ratio = large["jobs"][job]["totalSeconds"] / small["jobs"][job]["totalSeconds"]
        print(f"{job}: with {large['extraHandled']} more handled bookings, run time {ratio:.2f}× (goal: 1)")
        reads = max(run["jobs"][job]["readsPerCandidate"] for run in runs)
        print(summary_line(f"daily job {job}: items read a candidate; run time with 10x handled",
                           f"{reads:.3f}; {ratio:.2f}x", "≤ 1.2; ~1x", reads <= 1.2 and ratio <= 1.2))  # fmt: skip


def run_once(candidates: int, others: int, extra_handled: int) -> dict[str, Any]:
    import os

    os.environ.update(AWS_ACCESS_KEY_ID="t", AWS_SECRET_ACCESS_KEY="t", AWS_DEFAULT_REGION=REGION)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    from infra.local import moto_indexes, moto_transactions

    moto_transactions.install()
    moto_indexes.install()
    with mock_aws():
        return measure(candidates, others, extra_handled)


def measure(candidates: int, others: int, extra_handled: int) -> dict[str, Any]:
    import boto3

    from infra.bench import template_table
    from pass_culture.clock import paris_midnight
    from pass_culture.daily_jobs.queue import SqsChunkQueue, parse_chunk
    from pass_culture.daily_jobs.repository import DailyJobsRepository
    from pass_culture.daily_jobs.rules import Job
    from pass_culture.daily_jobs.service import DailyJobs

    client, table = template_table()
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = next(url for url in sqs.list_queues()["QueueUrls"] if "DailyJobsQueue" in url)
    today = date(2026, 11, 23)
    seeded = seed(table.name, today, candidates, others, extra_handled)
    repository = DailyJobsRepository(table)
    for each_job in Job:  # the jobs ran yesterday
        repository.advance(each_job, today - timedelta(days=1 if each_job is Job.EXPIRE else 2))
    reads = ReadCounter()
    client.meta.events.register("after-call.dynamodb", reads)
    jobs = DailyJobs(repository, SqsChunkQueue(sqs, queue_url))
    runs: dict[str, Callable[[], dict[str, Any]]] = {
        Job.AUTO_VALIDATE.value: lambda: jobs.auto_validate(paris_midnight(today) + timedelta(hours=3)),
        Job.EXPIRE.value: lambda: jobs.expire(paris_midnight(today) + timedelta(minutes=30)),
    }
    figures: dict[str, Any] = {}
    for job, run in runs.items():
        reads.reset()
        started = time.perf_counter()
        answer = run()
        job_seconds = time.perf_counter() - started
        started = time.perf_counter()
        while True:  # the worker, one chunk after another
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            for message in messages:
                jobs.handle_chunk(parse_chunk(message["Body"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        worker_seconds = time.perf_counter() - started
        (stored,) = repository.runs(Job(job), 1, None)[0]  # the run's report, the worker's chunks added
        done = int(stored.get("validated", 0)) + int(stored.get("expired", 0)) + int(stored.get("reminded", 0))
        figures[job] = {
            "candidates": answer["candidates"], "done": done, "status": stored["status"],
            "readsPerCandidate": reads.items / max(1, answer["candidates"]), "calls": sum(reads.calls.values()),
            "callsByOperation": dict(reads.calls), "jobSeconds": job_seconds, "workerSeconds": worker_seconds,
            "totalSeconds": job_seconds + worker_seconds, "chunks": answer["chunksQueued"],
        }  # fmt: skip
    return {"candidates": candidates, "bookings": seeded, "extraHandled": extra_handled, "jobs": figures}


class ReadCounter:
    """Every DynamoDB call, and the items each read: what a Query evaluated (ScannedCount), an item got."""

    def __init__(self) -> None:
        self.items = 0
        self.calls: Counter[str] = Counter()

    def reset(self) -> None:
        self.items = 0
        self.calls.clear()

    def __call__(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        self.calls[model.name] += 1
        if model.name in ("Query", "Scan"):
            self.items += int(parsed.get("ScannedCount", 0))
        elif model.name == "GetItem":
            self.items += 1 if parsed.get("Item") else 0
        elif model.name == "BatchGetItem":
            self.items += sum(len(found) for found in parsed.get("Responses", {}).values())


def seed(table_name: str, today: date, candidates: int, others: int, extra_handled: int) -> int:
    """Bookings as the booking code writes them (`booking_item`, its due index keys), straight into moto's storage:
    `candidates` free cards due by today 03:00 and as many books expiring today; `others` of other dates and statuses
    (20 % handled, the rest due on later days, for either job, or later today); `extra_handled` more handled ones."""
    from moto.dynamodb.models import dynamodb_backends

    from infra.bench import store_in_moto
    from pass_culture.accounts.repository import credit_key
    from pass_culture.bookings.repository import booking_item
    from pass_culture.bookings.rules import BookingStatus, due
    from pass_culture.clock import paris_midnight
    from pass_culture.offers.repository import stock_key
    from pass_culture.subcategories import BY_ID

    table = dynamodb_backends[ACCOUNT][REGION].get_table(table_name)
    template = sample_booking()
    card, book = BY_ID["ABO_BIBLIOTHEQUE"], BY_ID["LIVRE_PAPIER"]
    run_time = paris_midnight(today) + timedelta(hours=3)
    count = 0

    def put(n: int, kind: str, booked_at: datetime, status: str = "CONFIRMED") -> None:
        nonlocal count
        subcategory = card if kind == "card" else book
        booking = template.model_copy(update={
            "id": f"{kind}{n:09d}", "token": f"T{n:07d}"[-6:], "booked_at": booked_at,
            "subcategory_id": subcategory.id, "amount_cents": 0 if kind == "card" else 1200,
            "unit_price_cents": 0 if kind == "card" else 1200, "status": BookingStatus(status),
            "stock_id": f"offer{n % OFFERS:06d}.1", "offer_id": f"offer{n % OFFERS:06d}",
            "beneficiary": template.beneficiary.model_copy(update={"id": f"user{n % BENEFICIARIES:06d}"}),
        })  # fmt: skip
        store(booking_item(booking, due(subcategory, booking.amount_cents, booked_at, None) if status == "CONFIRMED"
                           else None))  # fmt: skip
        count += 1

    def store(item: dict[str, Any]) -> None:
        store_in_moto(table, item)

    for n in range(OFFERS):  # what an expiry gives back to
        store({**stock_key(f"offer{n:06d}.1"), "entity": "STOCK", "bookedQuantity": 10**6, "quantity": None})
    for n in range(BENEFICIARIES):
        store({**credit_key(f"user{n:06d}"), "entity": "CREDIT", "spentCents": 10**9, "initialCents": 30000})
    window = timedelta(hours=24)
    for n in range(candidates):  # due over the day before the run: cards booked 30 days before, books 10
        offset = window * (n + 1) / (candidates + 1)
        put(n, "card", run_time - timedelta(days=30) - offset)
        put(n, "book", paris_midnight(today) - timedelta(days=10) - offset)
    handled = round(others * HANDLED_SHARE)
    for n in range(others):
        later = timedelta(days=1 + n % 60, minutes=n % 1440)
        kind = "card" if n % 2 else "book"
        if n < handled:
            put(candidates + n, kind, run_time - timedelta(days=40) - later, ("USED", "CANCELLED", "REIMBURSED")[n % 3])
        elif n % 10 == 0:  # later today: a card whose 30 days end after the run's 03:00
            put(candidates + n, "card", run_time - timedelta(days=30) + timedelta(minutes=1 + n % 1200))
        else:
            put(candidates + n, kind, run_time - timedelta(days=5) + later)
    for n in range(extra_handled):
        put(candidates + others + n, "card" if n % 2 else "book", run_time - timedelta(days=60 + n % 300), "USED")
    return count


def sample_booking() -> Any:
    from pass_culture.bookings.models import BeneficiaryCopy, Booking
    from pass_culture.bookings.rules import BookingStatus

    return Booking(
        id="x", token="ABCDEF", status=BookingStatus.CONFIRMED, quantity=1, unit_price_cents=0, amount_cents=0,
        stock_id="offer.1", offer_id="offer", offer_name="Abonnement à la médiathèque",
        subcategory_id="ABO_BIBLIOTHEQUE",
        venue_id="venue", venue_name="Médiathèque Marguerite Duras", venue_address="115 rue de Bagnolet, 75020 Paris",
        offerer_id="offerer", pricing_point_venue_id="venue", booking_email="mediatheque@paris.example",
        beneficiary=BeneficiaryCopy(id="user", first_name="Jeanne", last_name="Jeune", email="jeanne@example.org",
                                    phone="0612345678", postal_code="75020"),
        booked_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
