"""The daily stock import over HTTP: a bookshop connects its venue to its stock software (the fake provider on
loopback), the 01:00 job runs, the offers and stocks appear with a report; a second run writes only the changes,
and a booking made in between keeps its place."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from infra.local.fake_provider import FakeProvider, generate_feed
from tests.e2e.conftest import RunningStack
from tests.e2e.test_accounts_flow import outbox_email
from tests.e2e.test_bookings_flow import BOOKSELLER, YOUNG, auth

ADMIN = "admin@passculture.local"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider(token="secret-token")
    fake.start()
    yield fake
    fake.stop()


def reports(stack: RunningStack, venue_id: str, token: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{stack.url}/venues/{venue_id}/stock-imports", headers=auth(token), timeout=10)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def connect(stack: RunningStack, venue_id: str, token: str, base_url: str) -> requests.Response:
    return requests.put(
        f"{stack.url}/venues/{venue_id}/stock-provider",
        json={"provider": "titelive", "baseUrl": base_url, "token": "secret-token"},
        headers=auth(token),
        timeout=30,
    )


def offer_and_stock_writes(stack: RunningStack) -> int:
    """Every write to an offer or a stock item so far, as the table's stream records them (one record a write that
    changed an item): the local stack's count of what the imports wrote."""
    streams = stack.aws_client("dynamodbstreams")
    (stream,) = streams.list_streams()["Streams"]
    shards = streams.describe_stream(StreamArn=stream["StreamArn"])["StreamDescription"]["Shards"]
    count = 0
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=stream["StreamArn"], ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            answer = streams.get_records(ShardIterator=iterator, Limit=1000)
            count += sum(r["dynamodb"]["Keys"]["PK"]["S"].startswith("OFFER#") for r in answer["Records"])
            iterator = answer.get("NextShardIterator") if answer["Records"] else None
    return count


def run_import(stack: RunningStack, venue_id: str, token: str, runs_before: int) -> dict[str, Any]:
    fired = requests.post(f"{stack.url}/_local/jobs/stock-import", json={}, timeout=60)
    assert fired.status_code == 200, fired.text
    assert fired.json()["venuesQueued"] >= 1
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:  # the worker runs from the queue, as in AWS
        found = reports(stack, venue_id, token)
        if len(found) > runs_before and found[0]["status"] != "RUNNING":
            return found[0]
        time.sleep(0.5)
    pytest.fail(f"no finished report: {reports(stack, venue_id, token)[:1]}")


def test_a_bookshop_connected_to_its_stock_software_gets_its_stock_every_night(
    stack: RunningStack, provider: FakeProvider
) -> None:
    pro = stack.login(BOOKSELLER)
    offerer = requests.get(f"{stack.url}/offerers", headers=auth(pro), timeout=10).json()["items"][0]
    venue = offerer["venues"][0]
    feed = generate_feed(seed=10, size=60)
    loaded = requests.post(
        f"{stack.url}/admin/catalogue",
        data=feed.catalogue_csv().encode(),
        headers={**auth(stack.login(ADMIN)), "Content-Type": "text/csv"},
        timeout=30,
    )
    assert loaded.status_code == 200, loaded.text
    provider.add_venue(venue["siret"], feed.lines)

    unknown = connect(stack, venue["id"], pro, provider.base_url.replace("/stocks", "/nothing-here"))
    assert unknown.status_code == 422, unknown.text
    connected = connect(stack, venue["id"], pro, provider.base_url)
    assert connected.status_code == 200, connected.text
    assert "secret-token" not in connected.text

    first = run_import(stack, venue["id"], pro, runs_before=len(reports(stack, venue["id"], pro)))
    assert first["status"] in ("SUCCESS", "PARTIAL"), first
    assert first["created"] == feed.counts["book"], first  # every known eligible book with some on the shelf
    assert sum(first["rejected"].values()) >= feed.counts["school_book"] + feed.counts["bad_checksum"]

    # A young person books one of the imported books, then the shop sells the rest of it and changes one price.
    offers = requests.get(f"{stack.url}/venues/{venue['id']}/offers?limit=100", headers=auth(pro), timeout=10).json()
    imported = {o["ean"]: o for o in offers["items"] if o.get("ean") in set(feed.eans["book"])}
    ean, offer = sorted(imported.items())[0]
    booking = requests.post(
        f"{stack.url}/bookings",
        json={"stockId": offer["stocks"][0]["id"]},
        headers=auth(stack.login(YOUNG)),
        timeout=10,
    )
    assert booking.status_code == 201, booking.text
    provider.update(venue["siret"], ean, available=0)
    offer_writes_before = offer_and_stock_writes(stack)
    second = run_import(stack, venue["id"], pro, runs_before=len(reports(stack, venue["id"], pro)))
    assert (second["updated"], second["created"]) == (1, 0), second  # only the change is read and written
    assert offer_and_stock_writes(stack) - offer_writes_before == 2  # that line's offer and stock, nothing else
    stock = requests.get(f"{stack.url}/offers/{offer['id']}", timeout=10).json()["stocks"][0]
    assert stock["quantity"] == 1  # nothing left on the shelf, and the booking keeps its place


def test_a_provider_that_keeps_failing_ends_failed_emailed_once_and_dead_lettered(
    stack: RunningStack, provider: FakeProvider
) -> None:
    """Each of the queue's receives fails; the third (the redrive policy's last) marks the run FAILED, the venue is
    emailed once through the stream, and the message lands in the DLQ."""
    pro = stack.login(BOOKSELLER)
    venue = requests.get(f"{stack.url}/offerers", headers=auth(pro), timeout=10).json()["items"][0]["venues"][0]
    provider.add_venue(venue["siret"], generate_feed(seed=11, size=5).lines)
    connected = connect(stack, venue["id"], pro, provider.base_url)
    assert connected.status_code == 200, connected.text
    provider.fail("bad_shape")  # every request from now on: a body without a "stocks" list
    try:
        failed = run_import(stack, venue["id"], pro, runs_before=len(reports(stack, venue["id"], pro)))
    finally:
        provider.heal()
    assert (failed["status"], failed["failure"]) == ("FAILED", "BAD_SHAPE"), failed
    email = outbox_email(stack, venue["bookingEmail"], "Import de stock en échec")
    assert "BAD_SHAPE" in email["text"]

    sqs = stack.aws_client("sqs")
    dlq = next(url for url in sqs.list_queues()["QueueUrls"] if "StockImportDLQ" in url)
    dead: list[dict[str, Any]] = []
    deadline = time.monotonic() + 20  # SQS moves it on the receive after the last one, once its visibility ends
    while not dead and time.monotonic() < deadline:
        dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert [venue["id"] in message["Body"] for message in dead] == [True]
