"""The counter over HTTP: two counters at once, venue software with its API key, the beneficiary told by email."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.e2e.conftest import RunningStack
from tests.e2e.test_accounts_flow import outbox_email
from tests.e2e.test_bookings_flow import BOOKSELLER, YOUNG, auth, bookshop_offer


def book(stack: RunningStack, stock_id: str) -> dict[str, str]:
    answer = requests.post(
        f"{stack.url}/bookings", json={"stockId": stock_id}, headers=auth(stack.login(YOUNG)), timeout=10
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_two_counters_validating_the_same_countermark_at_once(stack: RunningStack) -> None:
    _, stock_id = bookshop_offer(stack, f"Affiche {uuid.uuid4().hex[:6]}", 500, 5)
    token = book(stack, stock_id)["token"]
    pro = auth(stack.login(BOOKSELLER))
    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(
            pool.map(
                lambda _: (
                    requests.patch(f"{stack.url}/v2/bookings/use/token/{token}", headers=pro, timeout=20).status_code
                ),
                range(2),
            )
        )
    assert statuses == [204, 410]


def test_venue_software_validates_undoes_and_cancels_and_the_young_person_is_told(stack: RunningStack) -> None:
    pro = auth(stack.login(BOOKSELLER))
    name = f"Poster {uuid.uuid4().hex[:6]}"
    offer_id, stock_id = bookshop_offer(stack, name, 700, 5)
    offerer_id = requests.get(f"{stack.url}/offers/{offer_id}", timeout=10).json()["offererId"]
    api_key = requests.post(f"{stack.url}/offerers/{offerer_id}/api-keys", headers=pro, timeout=10).json()["apiKey"]
    software = auth(api_key)
    token = book(stack, stock_id)["token"]
    shown = requests.get(f"{stack.url}/v2/bookings/token/{token.lower()}", headers=software, timeout=10)
    assert (shown.status_code, shown.json()["offerName"]) == (200, name)
    assert requests.patch(f"{stack.url}/v2/bookings/use/token/{token}", headers=software, timeout=10).status_code == 204
    assert (
        requests.patch(f"{stack.url}/v2/bookings/keep/token/{token}", headers=software, timeout=10).status_code == 204
    )
    undone = outbox_email(stack, YOUNG, "validation")
    assert token in undone["text"]
    assert (
        requests.patch(f"{stack.url}/v2/bookings/cancel/token/{token}", headers=software, timeout=10).status_code == 204
    )
    cancelled = outbox_email(stack, YOUNG, f"Ta réservation de « {name} » a été annulée")
    assert "7,00" in cancelled["text"]
    gone = requests.patch(f"{stack.url}/v2/bookings/use/token/{token}", headers=software, timeout=10)
    assert (gone.status_code, gone.json()["message"]) == (410, "Cette réservation a été annulée.")
    export = requests.get(f"{stack.url}/pro/bookings/export", params={"format": "csv"}, headers=pro, timeout=30)
    assert export.status_code == 200
    assert export.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    assert token in export.text
