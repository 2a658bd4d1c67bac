"""The biweekly payout batch (issue #12): 100 000 USED bookings across 2 000 venues (1 000 offerers, each with an
ACCEPTED bank account and two venues, each its own pricing point), beside 100 000 bookings REIMBURSED by earlier
batches. Through the real path — `PayoutBatches` with its repository, the template's SQS queue (`PayoutsQueue`) and
files bucket (`FilesBucket`) — against moto in process with the local stack's patches (transactions and GSI queries
at DynamoDB's cost, answers that carry items as plain JSON: `infra/local/moto_transactions.py`, `moto_indexes.py`,
`moto_answers.py`) and one more, here: a Query on the table's own key reads its partition, not the whole table
(`partition_queries`).

The job's `run(time)` (2026-12-01 02:00 Paris: the period 2026-11-16 .. 2026-11-30) opens the batch and queues one
PRICE task per pricing point; then the worker drains the queue one message after another (in AWS the PRICE and MARK
tasks run side by side): PRICE every point, the one PAY (the files and the payouts, from every frozen line), MARK every
point's bookings REIMBURSED. Figures:
- time: the job's, and the worker's by step kind, each with its share spent in moto answering (the AWS stand-in: what
  is left is the batch's own Python, boto3's included);
- reads: items read per booking paid over the whole batch (Query/Scan ScannedCount, GetItem and BatchGetItem items,
  from a botocore hook; goal ≤ 1.2), and DynamoDB calls by operation;
- memory: the `tracemalloc` peak of the PAY step (the one holding every line) — PAY is run a second time for it, as a
  redelivered PAY task would run, since tracemalloc slows allocation-heavy code about fivefold; the process's peak
  RSS (`ru_maxrss`: moto's copy of the seeded table and of every write, stream records included). `--trace-all` adds
  a second process running the whole batch under tracemalloc, for its peak over the whole batch (mostly moto's own
  storage of the batch's writes; the seeded table is not counted) — about six times slower.

The run fails (exit 1) unless the batch is DONE with every booking paid, the exact amount transferred (every point
stays under 20 000 € a year: 100 %), one transfer and one payout per offerer, their files, and sample bookings
REIMBURSED and out of the payable index. The table is seeded straight into moto's storage (its own PutItem costs
O(attributes²) per item, a moto artefact); everything the batch does goes through boto3.

    make bench                                                     # everything
    python -m infra.bench.payouts                                  # 100 000 bookings, 2 000 venues, 100 000 old
    python -m infra.bench.payouts --bookings 5000 --venues 100 --old 5000      # a quicker look
    python -m infra.bench.payouts --bookings 5000 --venues 100 --trace-all     # with the whole batch's peak
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from infra.bench.daily_jobs import ReadCounter, sample_booking
from infra.bench.report import summary_line

ACCOUNT, REGION = "123456789012", "eu-west-3"
RUN_DAY = date(2026, 12, 1)  # the job runs at 02:00 Paris: the period 2026-11-16 .. 2026-11-30
IBAN, BIC = "FR7630006000011234567890189", "AGRIFRPP"
BOOK_CENTS, FILM_CENTS = 12_00, 15_00
MIB = 1024 * 1024


def _debtor() -> Any:
    from pass_culture.payouts.sepa import Debtor

    return Debtor("pass Culture", "FR7610107001011234567890129", "BDFEFRPP")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=100_000, help="USED bookings to pay this period")
    parser.add_argument("--venues", type=int, default=2_000, help="venues (each its pricing point), two an offerer")
    parser.add_argument("--old", type=int, default=100_000, help="bookings REIMBURSED by earlier batches")
    parser.add_argument("--trace-all", action="store_true", help="then the whole batch again under tracemalloc (slow)")
    parser.add_argument("--one", choices=("timed", "traced"), help=argparse.SUPPRESS)  # internal: one run, here
    arguments = parser.parse_args()
    if arguments.venues < 2 or arguments.venues % 2 or arguments.bookings < arguments.venues:
        parser.error("--venues: an even number ≥ 2, at most --bookings")
    if arguments.one:
        print(json.dumps(run_once(arguments.bookings, arguments.venues, arguments.old, arguments.one == "traced")))
        return 0
    started = time.perf_counter()
    runs: dict[str, dict[str, Any]] = {}
    for mode in ("timed", "traced") if arguments.trace_all else ("timed",):
        command = [sys.executable, "-m", "infra.bench.payouts", "--bookings", str(arguments.bookings),
                   "--venues", str(arguments.venues), "--old", str(arguments.old), "--one", mode]  # fmt: skip
        answer = subprocess.run(command, check=False, capture_output=True, text=True)
        if answer.returncode != 0:
            sys.stderr.write(answer.stderr)
            return answer.returncode
        runs[mode] = json.loads(answer.stdout.strip().splitlines()[-1])
    figures = runs["timed"]
    if "traced" in runs:
        figures["memory"]["batchPeakBytes"] = runs["traced"]["memory"]["batchPeakBytes"]
        figures["memory"]["tracedPayPeakBytes"] = runs["traced"]["memory"]["payPeakBytes"]
        figures["problems"] += [f"under tracemalloc: {problem}" for problem in runs["traced"]["problems"]]
    figures["wallSeconds"] = time.perf_counter() - started
    report(figures)
    for problem in figures["problems"]:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if figures["problems"] else 0


def report(figures: dict[str, Any]) -> None:
    steps, outcome, memory = figures["steps"], figures["outcome"], figures["memory"]
    print(f"Payout batch: {figures['bookings']} USED bookings across {figures['venues']} venues "
          f"({figures['offerers']} offerers), {figures['old']} REIMBURSED earlier; {figures['tableItems']} items "
          f"in the table (seeded in {figures['seedSeconds']:.0f} s)")  # fmt: skip
    print("| step | tasks | time | of which in moto | items read | DynamoDB calls |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, step in steps.items():
        print(f"| {name} | {step['tasks']} | {step['seconds']:.1f} s | {step['motoSeconds']:.1f} s "
              f"| {step['itemsRead']} | {step['calls']} |")  # fmt: skip
    tasks, calls_made = sum(s["tasks"] for s in steps.values()), sum(figures["callsByOperation"].values())
    print(f"| total (SQS included) | {tasks} | {figures['totalSeconds']:.1f} s | {figures['motoSeconds']:.1f} s "
          f"| {figures['itemsRead']} | {calls_made} |")  # fmt: skip
    calls = ", ".join(f"{name} {count}" for name, count in sorted(figures["callsByOperation"].items()))
    print(f"DynamoDB calls: {calls}")
    whole = f"{memory['batchPeakBytes'] / MIB:.0f} MiB" if "batchPeakBytes" in memory else "not measured (--trace-all)"
    print(f"Memory: tracemalloc peak over PAY {memory['payPeakBytes'] / MIB:.0f} MiB (PAY run again, "
          f"{memory['payTracedSeconds']:.0f} s under tracemalloc), over the whole batch {whole}; "
          f"peak RSS {figures['maxRssBytes'] / MIB:.0f} MiB "
          f"({figures['seededRssBytes'] / MIB:.0f} MiB once seeded)")  # fmt: skip
    print(f"Outcome: batch {outcome['status']}, {outcome['bookingsPaid']} bookings paid, "
          f"{outcome['transferredCents'] / 100:.2f} € in {outcome['transfers']} transfers, "
          f"{outcome['payouts']} payouts, {outcome['files']} files")  # fmt: skip
    print(f"payouts: {figures['bookings']} bookings in {figures['totalSeconds']:.0f} s ({figures['motoSeconds']:.0f} s"
          f" in moto; job {steps['job']['seconds']:.1f} s, PAY {steps['PAY']['seconds']:.1f} s), "
          f"{figures['readsPerBooking']:.3f} items read per booking (goal: ≤ 1.2), PAY peak "
          f"{memory['payPeakBytes'] / MIB:.0f} MiB, {'checks passed' if not figures['problems'] else 'CHECKS FAILED'}"
          f"; wall time {figures['wallSeconds']:.0f} s")  # fmt: skip
    print(
        summary_line(
            f"payouts: {figures['bookings']} bookings, items read a booking; time; PAY peak memory",
            f"{figures['readsPerBooking']:.3f}; {figures['totalSeconds']:.0f} s; "
            f"{memory['payPeakBytes'] / MIB:.0f} MiB",
            "≤ 1.2 items",
            figures["readsPerBooking"] <= 1.2,
        )
    )
    print(json.dumps(figures))


def run_once(bookings: int, venues: int, old: int, traced: bool) -> dict[str, Any]:
    import os

    os.environ.update(AWS_ACCESS_KEY_ID="t", AWS_SECRET_ACCESS_KEY="t", AWS_DEFAULT_REGION=REGION)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    from infra.local import moto_answers, moto_indexes, moto_transactions

    moto_transactions.install()  # the local stack's patches, before partition_queries wraps moto's Query
    moto_indexes.install()
    moto_answers.install()
    partition_queries()
    with mock_aws():
        return measure(bookings, venues, old, traced)


def partition_queries() -> None:
    """A Query on the table's own key at DynamoDB's cost too: moto 5.2 answers it by walking and sorting the WHOLE
    table (`Table.all_items()`) on every call — `moto_indexes` does the partition for GSI queries only — so each MARK
    and the job's and PAY's queries of the batch's partition cost O(table) (about 1 s each with 200 000 bookings).
    Here `all_items()` answers that partition's items for the query's walk; moto checks the conditions, sorts by the
    range key, pages and counts as before."""
    import inspect

    from moto.dynamodb.models.table import Table as MotoTable

    original = MotoTable.query
    if getattr(original, "_partitioned", False):
        return
    signature = inspect.signature(original)

    def query(table: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(table, *args, **kwargs).arguments
        hash_key = arguments.get("hash_key")
        if arguments.get("index_name") or hash_key is None or not table.range_key_attr:
            return original(table, *args, **kwargs)
        bucket = table.items.get(hash_key)
        partition = list(bucket.values()) if bucket else []
        table.all_items = lambda: partition
        try:
            return original(table, *args, **kwargs)
        finally:
            del table.all_items

    query._partitioned = True  # type: ignore[attr-defined]
    MotoTable.query = query  # type: ignore[method-assign,assignment]


class MotoClock:
    """The time spent in moto (the AWS stand-in) answering this process's calls: every boto3 call goes through
    its botocore stubber."""

    def __init__(self) -> None:
        from moto.core.botocore_stubber import BotocoreStubber

        self.seconds = 0.0
        original = BotocoreStubber.process_request

        def timed(stubber: Any, request: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(stubber, request)
            finally:
                self.seconds += time.perf_counter() - started

        BotocoreStubber.process_request = timed  # type: ignore[method-assign,assignment]


class DiscardedTasks:
    def send(self, tasks: list[Any]) -> None:
        pass


def measure(bookings: int, venues: int, old: int, traced: bool) -> dict[str, Any]:
    import boto3

    from infra.bench import template_table
    from pass_culture.clock import paris_midnight
    from pass_culture.payouts.batch import PayoutBatches
    from pass_culture.payouts.models import PayoutTask, Step
    from pass_culture.payouts.outputs import S3FileStore, SqsTaskQueue
    from pass_culture.payouts.repository import PayoutsRepository
    from pass_culture.payouts.rules import period_ending_before

    client, table = template_table()
    sqs, s3 = boto3.client("sqs", region_name=REGION), boto3.client("s3", region_name=REGION)
    queue_url = next(url for url in sqs.list_queues()["QueueUrls"] if "PayoutsQueue" in url)
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"] if "filesbucket" in b["Name"].lower())
    run_time = paris_midnight(RUN_DAY) + timedelta(hours=2)
    period = period_ending_before(run_time)
    started = time.perf_counter()
    seeded = seed(table.name, period.starts_at, period.ends_at, bookings, venues, old)
    seed_seconds = time.perf_counter() - started
    seeded_rss = max_rss()

    repository = PayoutsRepository(table)
    batches = PayoutBatches(repository, SqsTaskQueue(sqs, queue_url), S3FileStore(s3, bucket), _debtor())
    reads, moto = ReadCounter(), MotoClock()
    client.meta.events.register("after-call.dynamodb", reads)
    steps = {name: {"tasks": 0, "seconds": 0.0, "motoSeconds": 0.0, "itemsRead": 0, "calls": 0}
             for name in ("job", *(step.value for step in Step))}  # fmt: skip
    memory: dict[str, Any] = {}
    pay_base = peak_before_pay = 0
    left_out = moto_left_out = 0.0

    def timed(name: str, action: Callable[[], Any]) -> Any:
        items, calls, in_moto, step_started = reads.items, sum(reads.calls.values()), moto.seconds, time.perf_counter()
        answer = action()
        steps[name]["tasks"] += 1
        steps[name]["seconds"] += time.perf_counter() - step_started
        steps[name]["motoSeconds"] += moto.seconds - in_moto
        steps[name]["itemsRead"] += reads.items - items
        steps[name]["calls"] += sum(reads.calls.values()) - calls
        return answer

    if traced:
        tracemalloc.start()
    batch_started, moto_before = time.perf_counter(), moto.seconds
    answer = timed("job", lambda: batches.run(run_time))
    while True:  # the worker, one message after another
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        for message in messages:
            task = PayoutTask.model_validate_json(message["Body"])
            if traced and task.step is Step.PAY:
                peak_before_pay = tracemalloc.get_traced_memory()[1]
                tracemalloc.reset_peak()
                pay_base = tracemalloc.get_traced_memory()[0]
            timed(task.step.value, lambda task=task: batches.handle(task))  # type: ignore[misc]
            if task.step is Step.PAY:
                if traced:
                    current, peak = tracemalloc.get_traced_memory()
                    memory.update(payPeakBytes=peak - pay_base, payRetainedBytes=current - pay_base)
                else:  # not counted in the batch's time
                    aside, moto_aside = time.perf_counter(), moto.seconds
                    memory.update(pay_again(table.name, s3, bucket, period.start))
                    left_out += time.perf_counter() - aside
                    moto_left_out += moto.seconds - moto_aside
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    total_seconds = time.perf_counter() - batch_started - left_out
    moto_seconds = moto.seconds - moto_before - moto_left_out
    if traced:
        memory["batchPeakBytes"] = max(peak_before_pay, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    client.meta.events.unregister("after-call.dynamodb", reads)
    items_read, calls = reads.items, dict(reads.calls)

    outcome, problems = check(repository, table, s3, bucket, period.start, answer, seeded)
    return {
        "bookings": bookings, "venues": venues, "offerers": venues // 2, "old": old, "tableItems": seeded["items"],
        "seedSeconds": seed_seconds, "job": answer, "steps": steps, "totalSeconds": total_seconds,
        "motoSeconds": moto_seconds, "itemsRead": items_read,
        "readsPerBooking": items_read / max(1, outcome["bookingsPaid"]), "callsByOperation": calls,
        "memory": memory, "maxRssBytes": max_rss(), "seededRssBytes": seeded_rss, "outcome": outcome,
        "problems": problems, "traced": traced,
    }  # fmt: skip


def pay_again(table_name: str, s3: Any, bucket: str, period_start: date) -> dict[str, Any]:
    """PAY run again, as a redelivered PAY task does (the batch back to PAYING: the same lines, files and payouts,
    which S3 and the table refuse to write twice), under tracemalloc and through a client the read counter does not
    see; its MARK tasks, sent already, are discarded."""
    import gc

    import boto3

    from pass_culture.dynamo import Expression, Table
    from pass_culture.payouts.batch import PayoutBatches
    from pass_culture.payouts.outputs import S3FileStore
    from pass_culture.payouts.repository import PayoutsRepository, batch_key

    table = Table(boto3.client("dynamodb", region_name=REGION), table_name)
    table.update(batch_key(period_start), Expression("SET #status = :paying", {"#status": "status"},
                                                     {":paying": "PAYING"}), return_new=False)  # fmt: skip
    again = PayoutBatches(PayoutsRepository(table), DiscardedTasks(), S3FileStore(s3, bucket), _debtor())
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    again.pay(period_start)
    seconds = time.perf_counter() - started
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    status = (table.get(batch_key(period_start), consistent=True) or {}).get("status")
    if status != "MARKING":
        raise RuntimeError(f"PAY run again left the batch {status}")
    return {"payPeakBytes": peak, "payRetainedBytes": current, "payTracedSeconds": seconds}


def check(
    repository: Any,
    table: Any,
    s3: Any,
    bucket: str,
    period_start: date,
    answer: dict[str, Any],
    seeded: dict[str, Any],
) -> tuple[dict[str, Any], list[str]]:
    """The batch's outcome, and what is wrong with it."""
    from pass_culture.bookings.repository import booking_key
    from pass_culture.dynamo import GSI2
    from pass_culture.payouts.batch import files_prefix
    from pass_culture.payouts.rules import Period

    batch = repository.batch(period_start) or {}
    prefix = files_prefix(Period(period_start, period_start)) + "/"
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    files = sum(page.get("KeyCount", 0) for page in pages)
    payouts = sum(1 for offerer in seeded["offerers"] if repository.payout(offerer, period_start) is not None)
    outcome = {
        "status": batch.get("status"), "bookingsPaid": int(batch.get("bookingsPaid", 0)),
        "transferredCents": int(batch.get("transferredCents", 0)), "transfers": int(batch.get("transfers", 0)),
        "payouts": payouts, "files": files, "pointsTotal": int(batch.get("pointsTotal", 0)),
    }  # fmt: skip
    expected = {
        "status": "DONE", "bookingsPaid": seeded["bookings"], "transferredCents": seeded["cents"],
        "transfers": len(seeded["offerers"]), "payouts": len(seeded["offerers"]),
        "files": 2 * len(seeded["offerers"]) + 2, "pointsTotal": len(seeded["points"]),
    }  # fmt: skip
    problems = [f"{name}: {outcome[name]}, expected {value}" for name, value in expected.items()
                if outcome[name] != value]  # fmt: skip
    if answer.get("batchStatus") != "PRICING" or answer.get("resumed"):
        problems.append(f"the job answered {answer}")
    left = sum(len(table.query(f"PAYABLE#{point}", index=GSI2, limit=10).items) for point in seeded["points"][:20])
    if left:
        problems.append(f"{left} bookings still payable at the first 20 points")
    for booking_id in seeded["sample"]:
        item = table.get(booking_key(booking_id)) or {}
        if item.get("status") != "REIMBURSED" or "GSI2PK" in item or not item.get("payoutId"):
            problems.append(f"booking {booking_id} not reimbursed: {item.get('status')}")
    return outcome, problems


def seed(table_name: str, starts_at: datetime, ends_at: datetime, bookings: int, venues: int, old: int
         ) -> dict[str, Any]:  # fmt: skip
    """Offerers, their ACCEPTED bank accounts and venues, the payable points, and `bookings` USED bookings spread over
    the venues and the period as a validation writes them (`booking_item`, then what `used_update` sets): books at
    12 €, one in 20 a free library card, one in 20 a DVD at 15 € (STANDARD). `old` bookings REIMBURSED by earlier
    batches this year (priced, paid, out of the payable index), and each point's revenue of the year they make."""
    from moto.dynamodb.models import dynamodb_backends

    from infra.bench import store_in_moto
    from pass_culture.accounts.models import BankAccount, Offerer, Venue
    from pass_culture.accounts.repository import _offerer_index, bank_account_key, offerer_key, venue_key
    from pass_culture.bookings.repository import booking_item
    from pass_culture.bookings.rules import BookingStatus
    from pass_culture.clock import isoformat
    from pass_culture.dynamo import key
    from pass_culture.payouts.repository import revenue_key

    table = dynamodb_backends[ACCOUNT][REGION].get_table(table_name)
    created = datetime(2025, 6, 1, tzinfo=UTC)
    count = 0

    def store(item: dict[str, Any]) -> None:
        nonlocal count
        store_in_moto(table, item)
        count += 1

    offerers = [f"offerer{n:05d}" for n in range(venues // 2)]
    points = [f"venue{n:05d}" for n in range(venues)]
    for n, offerer_id in enumerate(offerers):
        offerer = Offerer.model_validate({"id": offerer_id, "siren": f"{300_000_000 + n}", "name": f"Librairie {n}",
                                          "validationStatus": "VALIDATED", "createdAt": created})  # fmt: skip
        store({**offerer_key(offerer_id), "entity": "OFFERER", **_offerer_index(offerer), **offerer.to_api()})
        account = BankAccount.model_validate({
            "offererId": offerer_id, "iban": IBAN, "bic": BIC, "label": "Compte courant", "status": "ACCEPTED",
            "updatedAt": created,
        })  # fmt: skip
        store(
            {**bank_account_key(offerer_id), "entity": "BANK_ACCOUNT", **account.model_dump(by_alias=True, mode="json")}
        )
    venue_names = {}
    for n, venue_id in enumerate(points):
        offerer_n = n // 2
        venue = Venue.model_validate({
            "id": venue_id, "offererId": offerers[offerer_n], "name": f"Librairie {offerer_n} - lieu {n % 2 + 1}",
            "siret": f"{300_000_000 + offerer_n}{n % 2 + 1:05d}", "pricingPointVenueId": venue_id,
            "address": f"{n % 200 + 1} rue de Bagnolet", "postalCode": "75020", "city": "Paris", "latitude": 48.86,
            "longitude": 2.40, "bookingEmail": f"{venue_id}@librairie.example", "createdAt": created,
        })  # fmt: skip
        venue_names[venue_id] = venue.name
        store({**venue_key(venue_id), "entity": "VENUE", "GSI1PK": f"OFFERER#{venue.offerer_id}",
               "GSI1SK": f"VENUE#{venue_id}", **venue.to_api()})  # fmt: skip
        store({**key("PAYABLE_POINTS", f"PRICING_POINT#{venue_id}"), "since": isoformat(created)})

    template = sample_booking()

    def booking(n: int, status: BookingStatus, used_at: datetime) -> tuple[Any, str, str]:
        venue_id = points[n % venues]
        offerer_id = offerers[(n % venues) // 2]
        kind, cents, name = (("ABO_BIBLIOTHEQUE", 0, "Abonnement à la médiathèque") if n % 20 == 0 else
                             ("SUPPORT_PHYSIQUE_FILM", FILM_CENTS, "Le Voyage de Chihiro (DVD)") if n % 20 == 1 else
                             ("LIVRE_PAPIER", BOOK_CENTS, f"Le Petit Prince, tome {n % 7 + 1}"))  # fmt: skip
        found = template.model_copy(update={
            "id": f"{status.value.lower()}{n:09d}", "token": f"{n:06X}"[-6:], "status": status,
            "unit_price_cents": cents, "amount_cents": cents, "subcategory_id": kind, "offer_name": name,
            "stock_id": f"offer{n % 5000:06d}.1", "offer_id": f"offer{n % 5000:06d}", "venue_id": venue_id,
            "venue_name": venue_names[venue_id], "offerer_id": offerer_id, "pricing_point_venue_id": venue_id,
            "booking_email": f"{venue_id}@librairie.example", "booked_at": used_at - timedelta(days=2),
            "used_at": used_at, "validation_author": "PRO:pro",
            "beneficiary": template.beneficiary.model_copy(update={"id": f"user{n % 20_000:06d}"}),
        })  # fmt: skip
        return found, venue_id, offerer_id

    cents = 0
    new: Counter[str] = Counter()
    sample: list[str] = []
    span = ends_at - starts_at
    for n in range(bookings):  # validated over the period, every point in turn
        used_at = starts_at + span * (n + 0.5) / bookings
        found, venue_id, offerer_id = booking(n, BookingStatus.USED, used_at)
        at = isoformat(used_at)
        store({
            **booking_item(found, None), "status": "USED", "usedAt": at, "validationAuthor": "PRO:pro",
            "GSI5PK": f"OFFERER#{offerer_id}#USED", "GSI5SK": f"{at}#{found.id}",
            "GSI2PK": f"PAYABLE#{venue_id}", "GSI2SK": f"{at}#{found.id}",
        })  # fmt: skip
        cents += found.amount_cents
        new[venue_id] += found.amount_cents
        if n % max(1, bookings // 50) == 0:
            sample.append(found.id)
    revenue: Counter[str] = Counter()
    year_start = datetime(2026, 1, 5, tzinfo=UTC)
    earlier = starts_at - timedelta(days=1) - year_start
    for n in range(old):  # paid by the batches of 2026 before this one
        used_at = year_start + earlier * (n + 0.5) / max(1, old)
        found, venue_id, offerer_id = booking(n, BookingStatus.REIMBURSED, used_at)
        paid_at = isoformat(used_at + timedelta(days=16))
        period_start = used_at.date().replace(day=1 if used_at.day < 16 else 16)
        store({
            **booking_item(found, None), "usedAt": isoformat(used_at), "validationAuthor": "PRO:pro",
            "reimbursedAt": paid_at, "GSI5PK": f"OFFERER#{offerer_id}#REIMBURSED", "GSI5SK": f"{paid_at}#{found.id}",
            "payoutId": f"{offerer_id}-{period_start:%Y%m%d}",
            "pricing": {"rule": "BOOK" if found.subcategory_id == "LIVRE_PAPIER" else "STANDARD", "year": 2026,
                        "revenueCents": 0, "rate": 10_000, "amountCents": found.amount_cents,
                        "reimbursedCents": found.amount_cents, "period": period_start.isoformat(),
                        "pricedAt": paid_at},
        })  # fmt: skip
        revenue[venue_id] += found.amount_cents
    for venue_id, total in revenue.items():
        store({**revenue_key(venue_id, 2026), "revenueCents": total, "entity": "REVENUE"})
    if max((revenue[v] + new[v] for v in points), default=0) > 20_000_00:  # else not all at 100 %: fewer --old
        raise SystemExit("a pricing point would pass 20 000 € this year: the expected total assumes 100 %")
    return {"items": count, "bookings": bookings, "cents": cents, "offerers": offerers, "points": points,
            "sample": sample}  # fmt: skip


def max_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes


if __name__ == "__main__":
    sys.exit(main())
