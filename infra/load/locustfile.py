"""The simulated users of `make load` (run by locust, headless, in its own process: `python -m infra.load` starts it).

- young people (each with their own beneficiary's ID token): search around their city, read offers, book (a third
  of the tries on the few stocks with one to three places, so sold-out refusals and lost races happen), cancel some
  of their bookings;
- counter software (offerer API keys): look up the countermarks of bookings just made, validate most of them.

Business refusals the contract declares (409 sold out / already booked / not enough credit, 410 used or cancelled,
422 not bookable) are answers, not failures: each is counted by status and code in the outcomes file. Anything
else — a 5xx above all — is a failure in locust's statistics.

Reads LOAD_DATA (the seeded data, JSON) and LOAD_THINK (think time), and writes LOAD_OUTCOMES (counts by operation,
status and code) at the end.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import secrets
from collections import Counter, defaultdict, deque
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, events, task

DATA: dict[str, Any] = json.loads(Path(os.environ["LOAD_DATA"]).read_text(encoding="utf-8"))
STOCKS: list[dict[str, Any]] = DATA["stocks"]
HOT = [s for s in STOCKS if s["hot"]]
BY_CITY: dict[int, list[dict[str, Any]]] = defaultdict(list)
for _stock in STOCKS:
    BY_CITY[_stock["city"]].append(_stock)
BENEFICIARIES = itertools.cycle(DATA["beneficiaries"])
API_KEYS: dict[str, str] = DATA["apiKeys"]
# Countermarks of thing bookings waiting at their offerer's counter (events are refused there before they start).
AT_THE_COUNTER: dict[str, deque[str]] = defaultdict(deque)
OUTCOMES: Counter[str] = Counter()  # "operation|status|code"
EXPECTED = {
    "search": {200},
    "offer": {200},
    "book": {201, 409, 422},
    "cancel": {200, 409, 410},
    "counter lookup": {200, 410},
    "validation": {204, 410},
}
rng = random.Random()  # noqa: S311 - the mix of operations, not a secret
# Each user's think time between two requests, in seconds: LOAD_THINK="min,max".
THINK_MIN, THINK_MAX = (float(x) for x in os.environ.get("LOAD_THINK", "0.5,2.5").split(","))


def _code(response: Any) -> str:
    try:
        body = response.json()
    except Exception:  # any body: only the code is wanted
        return ""
    return str(body.get("code", "")) if isinstance(body, dict) else ""


def judge(operation: str, response: Any) -> bool:
    """Counts the answer; marks it failed in locust's statistics unless the contract expects it."""
    status = int(response.status_code or 0)
    OUTCOMES[f"{operation}|{status}|{_code(response) if status >= 400 else ''}"] += 1
    if status in EXPECTED[operation]:
        response.success()
        return True
    response.failure(f"{operation}: unexpected {status} {str(response.text or '')[:200]}")
    return False


def write_outcomes(**_: Any) -> None:
    Path(os.environ["LOAD_OUTCOMES"]).write_text(json.dumps(dict(OUTCOMES), indent=1), encoding="utf-8")


events.test_stop.add_listener(write_outcomes)  # type: ignore[no-untyped-call]


class YoungPerson(FastHttpUser):
    weight = 6
    wait_time = between(THINK_MIN, THINK_MAX)
    network_timeout = 45.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        me = next(BENEFICIARIES)
        self.auth = {"Authorization": f"Bearer {me['token']}"}
        self.city = int(me["city"])
        self.lat, self.lon = DATA["cities"][self.city]
        self.bookings: list[dict[str, Any]] = []

    def _stock(self) -> dict[str, Any]:
        if HOT and rng.random() < 0.3:
            return rng.choice(HOT)
        return rng.choice(BY_CITY[self.city] if rng.random() < 0.8 else STOCKS)

    @task(4)
    def search(self) -> None:
        lat, lon = self.lat + rng.uniform(-0.03, 0.03), self.lon + rng.uniform(-0.03, 0.03)
        radius = rng.choice((2, 5, 10, 20))
        with self.client.get(
            f"/offers?lat={lat:.5f}&lon={lon:.5f}&radiusKm={radius}", name="search", catch_response=True
        ) as response:
            judge("search", response)

    @task(4)
    def read_offer(self) -> None:
        offer_id = self._stock()["offer_id"]
        with self.client.get(f"/offers/{offer_id}", name="offer", catch_response=True) as response:
            judge("offer", response)

    @task(3)
    def book(self) -> None:
        stock = self._stock()
        headers = {**self.auth, "Idempotency-Key": secrets.token_hex(16)}
        with self.client.post(
            "/bookings",
            json={"stockId": stock["stock_id"], "quantity": 1},
            headers=headers,
            name="book",
            catch_response=True,
        ) as response:
            if judge("book", response) and response.status_code == 201:
                booking = response.json()
                self.bookings.append(booking)
                if not stock["event"]:
                    AT_THE_COUNTER[stock["offerer_id"]].append(booking["token"])

    @task(1)
    def cancel(self) -> None:
        if not self.bookings:
            return
        booking = self.bookings.pop(rng.randrange(len(self.bookings)))
        with self.client.post(
            f"/bookings/{booking['id']}/cancel", headers=self.auth, name="cancel", catch_response=True
        ) as response:
            judge("cancel", response)


class CounterSoftware(FastHttpUser):
    weight = 1
    wait_time = between(THINK_MIN, THINK_MAX)
    network_timeout = 45.0
    connection_timeout = 10.0

    @task
    def validate(self) -> None:
        waiting = [offerer for offerer, tokens in AT_THE_COUNTER.items() if tokens]
        if not waiting:
            return
        offerer = rng.choice(waiting)
        token = AT_THE_COUNTER[offerer].popleft()
        auth = {"Authorization": f"Bearer {API_KEYS[offerer]}"}
        with self.client.get(
            f"/v2/bookings/token/{token}", headers=auth, name="counter lookup", catch_response=True
        ) as response:
            found = judge("counter lookup", response) and response.status_code == 200
        if found and rng.random() < 0.7:
            with self.client.patch(
                f"/v2/bookings/use/token/{token}", headers=auth, name="validation", catch_response=True
            ) as response:
                judge("validation", response)
