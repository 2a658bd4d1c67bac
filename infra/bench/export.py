"""The CSV export of 10 000 bookings (issue #6): wall time, the part spent waiting for DynamoDB, the export's peak
Python memory, and round trips. DynamoDB is moto's server in another process (so the memory figure is the export's
own); moto's index queries scan its whole table, so AWS answers faster than the waiting time shown here."""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from infra.bench import moto_server
from infra.bench.report import summary_line


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=10_000)
    arguments = parser.parse_args()
    with moto_server(patched=False):  # the export only reads: moto as it comes
        return run(arguments.bookings)


def run(count: int) -> int:
    from infra.bench import template_table
    from pass_culture.access import Caller
    from pass_culture.accounts.repository import AccountsRepository, membership_key
    from pass_culture.bookings.models import BeneficiaryCopy, Booking
    from pass_culture.bookings.repository import BookingsRepository, booking_item
    from pass_culture.bookings.rules import BookingStatus
    from pass_culture.bookings.tracking import BookingFilters, TrackingService

    client, table = template_table()
    table.put({**membership_key("pro", "offerer"), "offererId": "offerer"})
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    statuses = list(BookingStatus)
    items = []
    for n in range(count):
        booking = Booking(
            id=f"b{n:06d}", token=f"T{n:05d}"[:6], status=statuses[n % 4], quantity=2 if n % 10 == 0 else 1,
            unit_price_cents=1290, amount_cents=1290, stock_id="o.s", offer_id="o", offer_name=f"Livre {n}",
            subcategory_id="LIVRE_PAPIER", ean="9782070360024", venue_id="v", venue_name="Librairie du Marais",
            venue_address="12 rue des Archives, 75003 Paris", offerer_id="offerer", booking_email="resa@x.fr",
            beneficiary=BeneficiaryCopy(id=f"u{n}", first_name="Jeanne", last_name="Jeune", email=f"j{n}@x.fr",
                                        phone="0612345678", postal_code="75011"),
            booked_at=now - timedelta(minutes=n),
        )  # fmt: skip
        items.append(booking_item(booking, None))
    started = time.perf_counter()
    table.put_many(items)
    loaded = time.perf_counter() - started
    service = TrackingService(BookingsRepository(table), AccountsRepository(table))
    caller = Caller(user_id="pro", email="pro@x.fr", groups=frozenset({"pro"}))
    calls: list[str] = []
    waiting: list[float] = []
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    client.meta.events.register("before-send.dynamodb", lambda **_: waiting.append(-time.perf_counter()))
    client.meta.events.register("response-received.dynamodb", lambda **_: waiting.append(time.perf_counter()))
    started = time.perf_counter()
    csv_text = service.export_csv(caller, BookingFilters.model_validate({"offererId": "offerer"}))
    elapsed = time.perf_counter() - started
    in_dynamodb = sum(waiting)
    queries = calls.count("Query")
    tracemalloc.start()
    service.export_csv(caller, BookingFilters.model_validate({"offererId": "offerer"}))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    lines = csv_text.count("\r\n") - 1
    print(f"export of {count} bookings ({lines} CSV lines, duos on two lines, {len(csv_text) / 1e6:.1f} MB):")
    ours = elapsed - in_dynamodb
    print(f"  wall time {elapsed:.2f} s: {in_dynamodb:.2f} s waiting for DynamoDB (moto), {ours:.2f} s ours")
    print(f"  peak Python memory of the export: {peak / 1e6:.1f} MB; {queries} Query calls")
    print(f"  (writing the {count} bookings into moto took {loaded:.1f} s)")
    print(summary_line(f"CSV export of {count} bookings: our time, peak memory, Queries",
                       f"{ours:.1f} s, {peak / 1e6:.0f} MB, {queries}"))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
