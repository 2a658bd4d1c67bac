"""The payout batch end to end against the embedded AWS (moto): job -> worker steps through a queue -> files in S3,
payouts, bookings REIMBURSED; reruns and crashes at each step pay nothing twice and rebuild the same bytes."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import xmlschema

from pass_culture import aws
from pass_culture.accounts.models import BankAccountInput, CreateVenueInput
from pass_culture.bookings.repository import BookingsRepository, booking_key
from pass_culture.clock import paris_midnight
from pass_culture.counter.repository import CounterRepository
from pass_culture.dynamo import Item, Table
from pass_culture.payouts.batch import PayoutBatches, files_prefix
from pass_culture.payouts.models import Line, PayoutTask, Step, payout_id
from pass_culture.payouts.outputs import S3FileStore
from pass_culture.payouts.repository import PayoutsRepository, batch_key
from pass_culture.payouts.rules import Period, period_ending_before
from pass_culture.payouts.sepa import Debtor
from pass_culture.settings import get_settings
from tests.integration.booking_world import ADMIN, PRO, World, world  # noqa: F401 - the fixture
from tests.integration.test_daily_jobs import book, day

SCHEMA = xmlschema.XMLSchema(Path(__file__).parent.parent / "data" / "pain.001.001.03.xsd")
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
IBAN, BIC = "FR7630006000011234567890189", "AGRIFRPP"
DEBTOR = Debtor("pass Culture", "FR7610107001011234567890129", "BDFEFRPP")


class ListQueue:
    def __init__(self) -> None:
        self.tasks: list[PayoutTask] = []

    def send(self, tasks: list[PayoutTask]) -> None:
        self.tasks.extend(tasks)


class Payouts:
    """The job and its worker, wired to a queue the test drains (SQS's redelivery: a task that raised stays)."""

    def __init__(self, table: Table) -> None:
        self.queue = ListQueue()
        self.s3 = aws.client("s3")
        self.bucket = get_settings().files_bucket
        self.batches = PayoutBatches(PayoutsRepository(table), self.queue, S3FileStore(self.s3, self.bucket), DEBTOR)

    def run(self, time: datetime) -> dict[str, Any]:
        report = self.batches.run(time)
        self.drain()
        return report

    def drain(self) -> None:
        while self.queue.tasks:
            task = self.queue.tasks[0]
            self.batches.handle(task)
            self.queue.tasks.pop(0)

    def file(self, key: str) -> bytes:
        body: bytes = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def files(self, period: Period) -> dict[str, bytes]:
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=files_prefix(period) + "/").get("Contents", [])
        return {entry["Key"]: self.file(entry["Key"]) for entry in listed}


@pytest.fixture
def payouts(world: World) -> Payouts:  # noqa: F811
    return Payouts(world.table)


def accept_bank_account(world: World, offerer_id: str | None = None, *, accept: bool = True) -> None:  # noqa: F811
    offerer = offerer_id or world.offerer_id
    world.accounts.put_bank_account(PRO, offerer, BankAccountInput(iban=IBAN, bic=BIC, label="Compte courant"))
    if accept:
        world.accounts.accept_bank_account(ADMIN, offerer)


def validated(world: World, stock_id: str, count: int, n_day: int) -> list[str]:  # noqa: F811
    ids = [book(world, world.young(), stock_id, day(n_day)) for _ in range(count)]
    for n, booking_id in enumerate(ids):
        use(world, booking_id, day(n_day, timedelta(hours=2, minutes=n)))
    return ids


def use(world: World, booking_id: str, at: datetime) -> None:  # noqa: F811
    found = BookingsRepository(world.table).get(booking_id)
    assert found is not None
    CounterRepository(world.table).use(found, "PRO:pro", at)


def stored(world: World, booking_id: str) -> Item:  # noqa: F811
    found = world.table.get(booking_key(booking_id))
    assert found is not None
    return found


def run_time_after(n_day: int) -> datetime:
    """The payouts job's run (02:00 Paris on the 1st or the 16th) right after the period that holds day n."""
    when = day(n_day).date()
    end = when.replace(day=16) if when.day < 16 else (when.replace(day=28) + timedelta(days=4)).replace(day=1)
    return paris_midnight(end) + timedelta(hours=2)


def csv_rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def cents(cell: str) -> int:
    return round(float(cell.replace("\u202f", "").replace(" ", "").replace(",", ".")) * 100)


def test_a_batch_prices_pays_files_and_marks_once_and_a_rerun_pays_nothing(world: World, payouts: Payouts) -> None:  # noqa: F811
    accept_bank_account(world)
    branch = world.accounts.create_venue(PRO, world.offerer_id, CreateVenueInput(
        name="Annexe", comment="Bibliothèque sans SIRET", pricing_point_venue_id=world.venue_id, address="2 rue",
        postal_code="75003", city="Paris", latitude=48.86, longitude=2.35, booking_email="annexe@librairie.example",
    ))  # fmt: skip
    books = validated(world, world.offer("LIVRE_PAPIER", 12_50, quantity=5), 3, 1)
    card = validated(world, world.offer("ABO_BIBLIOTHEQUE", 0, quantity=None), 1, 2)
    world.venue_id, main_venue = branch.id, world.venue_id
    at_branch = validated(world, world.offer("LIVRE_PAPIER", 20_00, quantity=5), 1, 3)
    world.venue_id = main_venue
    time = run_time_after(3)
    period = period_ending_before(time)

    report = payouts.run(time)
    assert report["batchStatus"] == "PRICING" and report["pointsTotal"] == 1  # the branch pays through the SIRET
    batch = world.table.get(batch_key(period.start))
    assert batch is not None and batch["status"] == "DONE"
    assert (batch["transfers"], batch["transferredCents"], batch["bookingsPaid"]) == (1, 3 * 12_50 + 20_00, 5)
    for booking_id in books + card + at_branch:
        item = stored(world, booking_id)
        assert item["status"] == "REIMBURSED" and item["reimbursedAt"] == batch["time"]
        assert "GSI2PK" not in item and item["GSI5PK"] == f"OFFERER#{world.offerer_id}#REIMBURSED"
    assert stored(world, card[0])["pricing"]["reimbursedCents"] == 0  # free: priced at 0 and listed

    files = payouts.files(period)
    prefix = files_prefix(period)
    sepa = files[f"{prefix}/virements-sepa.xml"]
    SCHEMA.validate(sepa.decode())
    document = ET.fromstring(sepa)
    control_sum = document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=NS)
    transactions = document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=NS)
    details = csv_rows(files[f"{prefix}/details.csv"])
    payout = world.table.get({"PK": f"OFFERER#{world.offerer_id}", "SK": f"PAYOUT#{period.start.isoformat()}"})
    assert payout is not None
    assert control_sum is not None and round(float(control_sum) * 100) == payout["reimbursedCents"]
    assert sum(cents(row["Montant remboursé"]) for row in details) == payout["reimbursedCents"] == 57_50
    assert transactions == "1" and len(details) == payout["bookingsCount"] == 5
    assert {row["SIRET du lieu"] for row in details} == {stored_siret(world, main_venue)}
    assert "pass Culture Pro - remboursement " + period.label in sepa.decode()
    assert files[f"{prefix}/{world.offerer_id}/releve.pdf"].startswith(b"%PDF")

    # A rerun of the job (a retry, a replay): the same batch, nothing more paid, no file rewritten
    again = payouts.run(time)
    assert again["resumed"] is True and again["batchStatus"] == "DONE"
    assert payouts.files(period) == files
    assert payouts.queue.tasks == []


def stored_siret(world: World, venue_id: str) -> str:  # noqa: F811
    venue = world.table.get({"PK": f"VENUE#{venue_id}", "SK": "PROFILE"})
    assert venue is not None
    return str(venue["siret"])


def test_an_account_not_accepted_waits_listed_and_is_paid_by_the_next_batch_once_accepted(
    world: World,  # noqa: F811
    payouts: Payouts,
) -> None:
    accept_bank_account(world, accept=False)
    ids = validated(world, world.offer("LIVRE_PAPIER", 10_00, quantity=5), 2, 1)
    first = run_time_after(1)
    payouts.run(first)
    batch = world.table.get(batch_key(period_ending_before(first).start))
    assert batch is not None and batch["status"] == "DONE" and batch["transfers"] == 0
    assert batch["waitingForAccount"] == [{
        "offererId": world.offerer_id, "offererName": "Librairie", "pointId": world.venue_id, "bookings": 2,
        "reimbursedCents": 20_00, "reason": "BANK_ACCOUNT_NOT_ACCEPTED",
    }]  # fmt: skip
    assert [stored(world, i)["status"] for i in ids] == ["USED", "USED"]
    assert all(stored(world, i)["pricing"] for i in ids)  # priced once, kept

    world.accounts.accept_bank_account(ADMIN, world.offerer_id)
    later = run_time_after(1) + timedelta(days=16)
    payouts.run(later)
    assert [stored(world, i)["status"] for i in ids] == ["REIMBURSED", "REIMBURSED"]
    paid = world.table.get(batch_key(period_ending_before(later).start))
    assert paid is not None and (paid["transferredCents"], paid["waitingForAccount"]) == (20_00, [])
    assert [stored(world, i)["payoutId"] for i in ids] == [
        payout_id(world.offerer_id, period_ending_before(later).start)
    ] * 2


def test_an_event_not_played_waits_and_an_undone_validation_is_not_paid(world: World, payouts: Payouts) -> None:  # noqa: F811
    accept_bank_account(world)
    concert = world.offer("CONCERT", 15_00, quantity=5, days=45)
    (played_later,) = validated(world, concert, 1, 1)
    undone = validated(world, world.offer("LIVRE_PAPIER", 9_00, quantity=5), 1, 1)[0]
    found = BookingsRepository(world.table).get(undone)
    assert found is not None
    CounterRepository(world.table).keep(found, None)
    time = run_time_after(1)
    payouts.run(time)
    batch = world.table.get(batch_key(period_ending_before(time).start))
    assert batch is not None and (batch["waitingForEvent"], batch["transfers"], batch["bookingsPaid"]) == (1, 0, 0)
    assert stored(world, played_later)["status"] == "USED" and "pricing" not in stored(world, played_later)
    assert stored(world, undone)["status"] == "CONFIRMED" and "pricing" not in stored(world, undone)

    event_date = datetime.fromisoformat(str(stored(world, played_later)["eventDate"]).replace("Z", "+00:00"))
    after_event = period_ending_before(event_date + timedelta(days=16))
    payouts.run(paris_midnight(after_event.end) + timedelta(hours=2))
    assert stored(world, played_later)["status"] == "REIMBURSED"


def test_a_priced_booking_can_no_longer_be_undone(world: World, payouts: Payouts) -> None:  # noqa: F811
    accept_bank_account(world, accept=False)  # priced, then waiting for the account: still USED
    (booking_id,) = validated(world, world.offer("LIVRE_PAPIER", 9_00, quantity=5), 1, 1)
    payouts.run(run_time_after(1))
    found = BookingsRepository(world.table).get(booking_id)
    assert found is not None and found.pricing is not None
    from pass_culture.counter.rules import CounterAction, counter_refusal

    refusal = counter_refusal(found, CounterAction.KEEP, time_now())
    assert refusal is not None and (refusal.status, refusal.code) == (410, "BOOKING_PRICED")
    from pass_culture.counter.repository import ValidationRace

    with pytest.raises(ValidationRace):  # and the write refuses it too, should the check have raced
        CounterRepository(world.table).keep(found, None)


def time_now() -> datetime:
    return datetime.now().astimezone()


# -- crashes: kill a step, rerun the job, the same files as a clean run ---------------------------------------------
def snapshot(table: Table) -> list[Any]:
    """The whole table (a test may Scan: it restores the world a clean run started from)."""
    client: Any = aws.dynamodb()
    items: list[Any] = []
    request: dict[str, Any] = {"TableName": table.name}
    while True:
        page = client.scan(**request)
        items += page["Items"]
        if not page.get("LastEvaluatedKey"):
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def restore(table: Table, items: list[Any], payouts: Payouts, period: Period) -> None:
    client = aws.dynamodb()
    for raw in snapshot(table):
        client.delete_item(TableName=table.name, Key={"PK": raw["PK"], "SK": raw["SK"]})
    for raw in items:
        client.put_item(TableName=table.name, Item=raw)
    for key in payouts.files(period):
        payouts.s3.delete_object(Bucket=payouts.bucket, Key=key)


def crash_after(calls: int, target: Callable[..., Any]) -> Callable[..., Any]:
    count = {"n": 0}

    def dying(*args: Any, **kwargs: Any) -> Any:
        if count["n"] >= calls:
            raise RuntimeError("the function died here")
        count["n"] += 1
        return target(*args, **kwargs)

    return dying


def die_after_half_the_marks(payouts: Payouts, monkeypatch: pytest.MonkeyPatch) -> None:
    repository = payouts.batches._repository
    original = repository.mark_reimbursed

    def dying(offerer_id: str, payout: str, lines: list[Line], at: datetime) -> int:
        original(offerer_id, payout, lines[: len(lines) // 2], at)
        raise RuntimeError("the function died here")

    monkeypatch.setattr(repository, "mark_reimbursed", dying)


CRASHES: dict[str, Callable[[Payouts, pytest.MonkeyPatch], None]] = {
    "after pricing some points": lambda p, mp: mp.setattr(
        p.batches._repository, "point_priced", crash_after(1, p.batches._repository.point_priced)
    ),
    "after writing the SEPA file": lambda p, mp: mp.setattr(
        p.batches._repository, "put_payout", crash_after(0, p.batches._repository.put_payout)
    ),
    "after marking half of the bookings": die_after_half_the_marks,
}


@pytest.mark.parametrize("crash", list(CRASHES))
def test_a_crash_at_any_step_resumes_to_the_files_of_a_clean_run(
    world: World,  # noqa: F811
    payouts: Payouts,
    monkeypatch: pytest.MonkeyPatch,
    crash: str,
) -> None:
    accept_bank_account(world)
    second = world.accounts.create_offerer(PRO, _offerer_input())
    world.accounts.validate_offerer(ADMIN, second.id)
    accept_bank_account(world, second.id)
    other_venue = world.accounts.create_venue(PRO, second.id, CreateVenueInput(
        name="Cinéma", siret=_siret(second.siren), address="3 rue", postal_code="69001", city="Lyon",
        latitude=45.76, longitude=4.83, booking_email="cine@example.org",
    ))  # fmt: skip
    ids = validated(world, world.offer("LIVRE_PAPIER", 11_00, quantity=10), 5, 1)
    world.venue_id = other_venue.id
    ids += validated(world, world.offer("LIVRE_PAPIER", 7_00, quantity=10), 3, 1)
    time = run_time_after(1)
    period = period_ending_before(time)
    before = snapshot(world.table)

    payouts.run(time)
    clean = payouts.files(period)
    clean_payouts = _payouts(world.table, period)
    assert len(clean) == 6 and clean_payouts[0]["reimbursedCents"] + clean_payouts[1]["reimbursedCents"] == 76_00
    restore(world.table, before, payouts, period)

    dying = Payouts(world.table)
    CRASHES[crash](dying, monkeypatch)
    with pytest.raises(RuntimeError, match="died"):
        dying.run(time)
    monkeypatch.undo()
    resumed = Payouts(world.table)  # SQS redelivers the task that died, and the job's check run resumes the batch
    resumed.queue.tasks = list(dying.queue.tasks)
    resumed.run(time)

    assert resumed.files(period) == clean
    assert _payouts(world.table, period) == clean_payouts
    assert {stored(world, i)["status"] for i in ids} == {"REIMBURSED"}
    batch = world.table.get(batch_key(period.start))
    assert batch is not None and batch["status"] == "DONE" and batch["bookingsPaid"] == 8


def _payouts(table: Table, period: Period) -> list[Item]:
    items = [
        item for item in (table.get({"PK": f"OFFERER#{o}", "SK": f"PAYOUT#{period.start.isoformat()}"})
                          for o in _offerers(table)) if item
    ]  # fmt: skip
    return sorted(items, key=lambda item: str(item["offererId"]))


def _offerers(table: Table) -> list[str]:
    return [str(raw["PK"]["S"]).removeprefix("OFFERER#") for raw in snapshot(table)
            if raw["SK"]["S"] == "PROFILE" and raw["PK"]["S"].startswith("OFFERER#")]  # fmt: skip


def _offerer_input() -> Any:
    import random

    from pass_culture.accounts.models import CreateOffererInput
    from tests.integration.booking_world import luhn_complete

    return CreateOffererInput(siren=luhn_complete(str(random.randrange(10**7, 10**8))), name="Cinéma du Parc")


def _siret(siren: str) -> str:
    from tests.integration.booking_world import luhn_complete

    return luhn_complete(siren + "0001")


def test_a_task_for_a_step_already_done_does_nothing(world: World, payouts: Payouts) -> None:  # noqa: F811
    accept_bank_account(world)
    ids = validated(world, world.offer("LIVRE_PAPIER", 10_00, quantity=5), 2, 1)
    time = run_time_after(1)
    payouts.run(time)
    period = period_ending_before(time)
    files = payouts.files(period)
    for task in (
        PayoutTask(period_start=period.start, step=Step.PRICE, point=world.venue_id),
        PayoutTask(period_start=period.start, step=Step.PAY),
        PayoutTask(period_start=period.start, step=Step.MARK, point=world.venue_id),
    ):
        payouts.batches.handle(task)
    assert payouts.queue.tasks == [] and payouts.files(period) == files
    assert {stored(world, i)["status"] for i in ids} == {"REIMBURSED"}


# -- the pros' routes -------------------------------------------------------------------------------------------
def test_a_pro_lists_the_payouts_and_the_bookings_of_one_and_nobody_else_does(
    world: World,  # noqa: F811
    payouts: Payouts,
    deployed: Any,
) -> None:
    from tests.events import claims_of
    from tests.integration.conftest import call_api

    accept_bank_account(world)
    ids = validated(world, world.offer("LIVRE_PAPIER", 10_00, quantity=5), 2, 1)
    time = run_time_after(1)
    payouts.run(time)
    period = period_ending_before(time)
    call = call_api(deployed("CounterApiFunction"))
    member, stranger = claims_of("pro", "pro"), claims_of("pro", "someone-else")

    listed = call("GET", "/pro/reimbursements", query={"offererId": world.offerer_id}, claims=member)
    assert listed.status == 200, listed.body
    [payout] = listed.body["items"]
    assert (payout["reimbursedCents"], payout["bookingsCount"], payout["status"]) == (20_00, 2, "PAID")
    assert payout["period"] == {"start": period.start.isoformat(), "end": (period.end - timedelta(days=1)).isoformat(),
                                "label": period.label}  # fmt: skip
    assert payout["bankAccount"]["iban"].startswith("FR76") and IBAN not in str(listed.body)
    for link in (payout["statementUrl"], payout["csvUrl"]):  # presigned GET links to the files the batch wrote
        assert "X-Amz-Signature=" in link or "Signature=" in link
        path = urlparse(link).path.lstrip("/")
        assert payouts.file(path.removeprefix(f"{payouts.bucket}/"))

    resource = "/pro/reimbursements/{payoutId}/bookings"
    path = f"/pro/reimbursements/{payout['id']}/bookings"
    lines = call("GET", path, resource=resource, params={"payoutId": payout["id"]}, claims=member)
    assert lines.status == 200
    assert sorted(line["bookingId"] for line in lines.body["items"]) == sorted(ids)
    assert {(line["rule"], line["rate"], line["reimbursedCents"]) for line in lines.body["items"]} == {
        ("BOOK", 10_000, 10_00)
    }

    def status(claims: dict[str, str] | None, payout_id_: str, query: dict[str, str] | None = None) -> int:
        if query is not None:
            return call("GET", "/pro/reimbursements", query=query, claims=claims).status
        return call("GET", f"/pro/reimbursements/{payout_id_}/bookings", resource=resource,
                    params={"payoutId": payout_id_}, claims=claims).status  # fmt: skip

    assert status(None, payout["id"]) == 401
    assert status(claims_of("beneficiary", "young"), payout["id"]) == 403
    assert status(stranger, payout["id"]) == 403  # another offerer's payout: the gate, before anything is read
    assert status(stranger, "", {"offererId": world.offerer_id}) == 403
    assert status(member, "not-a-payout") == 403
    assert status(member, payout_id(world.offerer_id, period.start.replace(year=2001))) == 404
    assert status(member, "", {}) == 400  # the offerer is required


def test_a_job_delivered_twice_at_once_opens_one_batch_and_pays_once(world: World, payouts: Payouts) -> None:  # noqa: F811
    accept_bank_account(world)
    ids = validated(world, world.offer("LIVRE_PAPIER", 10_00, quantity=5), 3, 1)
    time = run_time_after(1)
    first, second = payouts.batches.run(time), payouts.batches.run(time)  # before any task is handled
    assert (first["resumed"], second["resumed"]) == (False, True)
    assert [task.step for task in payouts.queue.tasks] == [Step.PRICE, Step.PRICE]  # the same point, twice
    payouts.drain()
    period = period_ending_before(time)
    batch = world.table.get(batch_key(period.start))
    assert batch is not None and (batch["status"], batch["bookingsPaid"], batch["transferredCents"]) == (
        "DONE", 3, 30_00,
    )  # fmt: skip
    assert {stored(world, i)["status"] for i in ids} == {"REIMBURSED"}
    assert len(_payouts(world.table, period)) == 1


def test_the_admin_reads_the_batches_beside_the_other_jobs_runs(world: World, payouts: Payouts, deployed: Any) -> None:  # noqa: F811
    from tests.events import claims_of
    from tests.integration.conftest import call_api

    accept_bank_account(world, accept=False)
    validated(world, world.offer("LIVRE_PAPIER", 10_00, quantity=5), 1, 1)
    payouts.run(run_time_after(1))
    call = call_api(deployed("PlatformApiFunction"))
    answer = call("GET", "/admin/job-runs", query={"job": "payouts"}, claims=claims_of("admin", "admin"))
    assert answer.status == 200, answer.body
    [batch] = answer.body["items"]
    assert (batch["status"], batch["periodStart"], batch["waitingForAccount"][0]["bookings"]) == (
        "DONE", period_ending_before(run_time_after(1)).start.isoformat(), 1,
    )  # fmt: skip
