"""Booking throughput through the local stack (gateway, authorizer, the Bookings function's pool, the embedded AWS)
beside raw `TransactWriteItems` of the same operations against the same embedded AWS, in one run. Goal (issue #15):
the stack at least 0.8x the raw transactions: the gateway, the function pool and the token check cost little.

The stack is `python -m infra.local` (what `make run` runs) on a free port; the raw transactions are sent by this
process to its embedded AWS (the same moto server, behind the same request lock). Both use the same number of
concurrent clients and book distinct (young person, offer) pairs, so every booking succeeds and writes the same items:
the booking (a real one's attributes, copied), its countermark, the one-per-offer lock, the stock, the credit, with
the offerer's and the offer's condition checks.

    python -m infra.bench.throughput                      # 16 clients, 800 bookings each way
    python -m infra.bench.throughput --clients 8 --bookings 400
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

PASSWORD = "Culture-Locale-2026"


def seed(stack_url: str, aws_endpoint: str, young_people: int, offers: int) -> dict[str, Any]:
    """Offers with large stocks at the seeded bookshop, and young people (registered by the admin) with ID tokens."""
    import boto3

    from pass_culture import dynamo

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=aws_endpoint, region_name="eu-west-3",  # type: ignore[call-overload]
                            aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip

    admin, pro = login(stack_url, "admin@passculture.local"), login(stack_url, "libraire@librairie-marais.example")
    found = requests.get(f"{stack_url}/offers", params={"lat": "48.859", "lon": "2.356", "radiusKm": "1"}, timeout=20)
    venue_id = found.json()["items"][0]["venueId"]
    stocks = []
    for n in range(offers):
        offer = requests.post(f"{stack_url}/offers", headers=bearer(pro), timeout=10, json={
            "venueId": venue_id, "subcategoryId": "SUPPORT_PHYSIQUE_FILM", "name": f"DVD {n}"}).json()  # fmt: skip
        stock = requests.post(f"{stack_url}/offers/{offer['id']}/stocks", headers=bearer(pro), timeout=10,
                              json={"priceCents": 100, "quantity": 100_000}).json()  # fmt: skip
        stocks.append(stock["id"])
    cognito = client("cognito-idp")
    pool = cognito.list_user_pools(MaxResults=5)["UserPools"][0]["Id"]
    tokens = []
    for n in range(young_people):
        email = f"bench-{n}-{uuid.uuid4().hex[:6]}@example.org"
        requests.post(f"{stack_url}/beneficiaries", headers=bearer(admin), timeout=10, json={
            "email": email, "firstName": "Jeune", "lastName": "Bench", "birthDate": "2008-01-01",
            "phone": "0600000000", "postalCode": "75011"}).raise_for_status()  # fmt: skip
        cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=PASSWORD, Permanent=True)
        tokens.append(login(stack_url, email))
    dynamodb = client("dynamodb")
    table_name = next(name for name in dynamodb.list_tables()["TableNames"] if "Table" in name)
    return {"stocks": stocks, "tokens": tokens, "table": dynamo.Table(dynamodb, table_name)}


def login(stack_url: str, email: str) -> str:
    answer = requests.post(f"{stack_url}/_local/login", json={"email": email, "password": PASSWORD}, timeout=10)
    answer.raise_for_status()
    return str(answer.json()["idToken"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def through_the_stack(stack_url: str, world: dict[str, Any], clients: int, bookings: int) -> float:
    """Bookings per second, POST /bookings by `clients` threads, each pair (young person, offer) booked once."""
    pairs = [(token, stock) for stock in world["stocks"] for token in world["tokens"]][:bookings]
    session_local = threading.local()

    def book(pair: tuple[str, str]) -> int:
        session = getattr(session_local, "session", None) or requests.Session()
        session_local.session = session
        answer = session.post(f"{stack_url}/bookings", json={"stockId": pair[1], "quantity": 1},
                              headers=bearer(pair[0]), timeout=30)  # fmt: skip
        return answer.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        statuses = list(pool.map(book, pairs))
    elapsed = time.perf_counter() - started
    if statuses.count(201) != len(pairs):
        raise SystemExit(f"through the stack: {len(pairs) - statuses.count(201)} bookings failed: {set(statuses)}")
    return len(pairs) / elapsed


def raw_transactions(world: dict[str, Any], clients: int, bookings: int) -> float:
    """Bookings per second, the same six writes and checks sent as TransactWriteItems by `clients` threads: a booking
    copied from one the stack made (same attributes, new ids), its countermark, a one-per-offer lock, the stock's
    increment, the credit's update, the offerer's condition check."""
    from pass_culture import dynamo

    table: dynamo.Table = world["table"]
    answer = table._client.scan(TableName=table.name, FilterExpression="entity = :b",  # a test tool's look-up
                                ExpressionAttributeValues={":b": {"S": "BOOKING"}})  # fmt: skip
    template = dynamo.deserialize(answer["Items"][0])
    from pass_culture.accounts.repository import credit_key, offerer_key
    from pass_culture.offers.repository import stock_key

    stock, offerer = stock_key(template["stockId"]), offerer_key(template["offererId"])
    credit = credit_key(template["beneficiary"]["id"])

    def book(n: int) -> None:
        booking_id = uuid.uuid4().hex
        table.transact([
            dynamo.Put({**template, "PK": f"BOOKING#{booking_id}", "id": booking_id}, dynamo.ITEM_IS_NEW),
            dynamo.Update(stock, dynamo.Expression("SET bookedQuantity = bookedQuantity + :one", values={":one": 1}),
                          dynamo.Expression("bookedQuantity < quantity")),
            dynamo.Put({**dynamo.key(f"TOKEN#RAW{n}", "TOKEN"), "bookingId": booking_id}, dynamo.ITEM_IS_NEW),
            dynamo.Put({**dynamo.key(f"USER#raw-{booking_id}", "ACTIVE"), "bookingId": booking_id},
                       dynamo.ITEM_IS_NEW),
            dynamo.Update(credit, dynamo.Expression("SET spentCents = spentCents + :zero", values={":zero": 0}),
                          dynamo.Expression("attribute_exists(PK)")),
            dynamo.ConditionCheck(offerer, dynamo.Expression("attribute_exists(PK)")),
        ])  # fmt: skip

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(book, range(bookings)))
    return bookings / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--bookings", type=int, default=800)
    arguments = parser.parse_args()
    from infra.local import launcher

    offers = 20
    young_people = max(1, -(-arguments.bookings // offers))
    with tempfile.TemporaryDirectory() as logs:
        launched = launcher.launch(Path(logs), ready_within=180)
        try:
            world = seed(launched.url, launched.aws_endpoint, young_people, offers)
            stack = through_the_stack(launched.url, world, arguments.clients, arguments.bookings)
            raw = raw_transactions(world, arguments.clients, arguments.bookings)
        finally:
            launched.stop()
    print(f"booking throughput, {arguments.clients} concurrent clients, {arguments.bookings} bookings each way")
    print(f"through the local stack (gateway, token check, function pool): {stack:7.1f} bookings/s")
    print(f"raw TransactWriteItems, same operations, same embedded AWS:   {raw:7.1f} bookings/s")
    print(f"ratio: {stack / raw:.2f}x (goal >= 0.8x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
