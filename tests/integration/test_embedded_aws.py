"""The embedded AWS holds one lock per request: under a burst of concurrent conditional writes, DynamoDB's conditions
hold as on AWS (without the lock, moto oversold a stock of 10 to 50 threads and answered 500s)."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from infra.local.embedded_aws import EmbeddedAws
from pass_culture import dynamo


def test_fifty_concurrent_bookings_of_ten_places_book_exactly_ten(embedded: tuple[EmbeddedAws, Any]) -> None:
    aws, provisioned = embedded
    client = aws.client("dynamodb")
    table = dynamo.Table(client, provisioned.ref("Table"))
    stock = dynamo.key("OFFER#1", "STOCK#1")
    table.put({**stock, "quantity": 10, "bookedQuantity": 0})

    def book(n: int) -> bool:
        try:
            table.transact(
                [
                    dynamo.Put({**dynamo.key(f"BOOKING#{n}", "BOOKING"), "status": "CONFIRMED"}, dynamo.ITEM_IS_NEW),
                    dynamo.Update(
                        stock,
                        dynamo.Expression("SET bookedQuantity = bookedQuantity + :one", values={":one": 1}),
                        dynamo.Expression("bookedQuantity < quantity"),
                    ),
                ]
            )
        except dynamo.TransactionCancelled:
            return False
        return True

    with ThreadPoolExecutor(max_workers=50) as pool:
        booked = sum(pool.map(book, range(50)))
    assert booked == 10
    assert table.get(stock, consistent=True)["bookedQuantity"] == 10  # type: ignore[index]
    assert sum(1 for n in range(50) if table.get(dynamo.key(f"BOOKING#{n}", "BOOKING"))) == 10
