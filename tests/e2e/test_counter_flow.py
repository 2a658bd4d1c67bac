"""The counter over HTTP: two counters at once, venue software with its API key, the beneficiary told by email."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.e2e.conftest import RunningStack
from tests.e2e.test_accounts_flow import luhn_complete, new_user, outbox_email
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
    assert (gone.status_code, gone.json()["booking_cancelled"]) == (410, ["Cette réservation a été annulée"])
    export = requests.get(f"{stack.url}/pro/bookings/export", params={"format": "csv"}, headers=pro, timeout=30)
    assert export.status_code == 200
    assert export.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    assert token in export.text


def test_guessing_countermarks_through_many_keys_gets_ten_answers_per_offerer(stack: RunningStack) -> None:
    """An offerer's ten API keys (the most it may hold) and its pro, guessing at once: the offerer gets 10 failed
    look-ups in all; the rest are 429 saying how long to wait. A fresh pro and offerer: no other test is blocked."""
    _, pro_token = new_user(stack, "pro")
    pro = auth(pro_token)
    siren = luhn_complete(str(uuid.uuid4().int)[:8])
    offerer = requests.post(f"{stack.url}/offerers", json={"siren": siren, "name": "Devineur"}, headers=pro, timeout=10)
    offerer_id = offerer.json()["id"]
    keys_url = f"{stack.url}/offerers/{offerer_id}/api-keys"
    keys = [requests.post(keys_url, headers=pro, timeout=10) for _ in range(11)]
    assert [k.status_code for k in keys] == [201] * 10 + [409]
    assert keys[10].json()["code"] == "TOO_MANY_API_KEYS"
    callers = [auth(k.json()["apiKey"]) for k in keys[:10]] + [pro]
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ234567"

    def guess(n: int) -> requests.Response:
        token = f"Q{alphabet[n // 30]}{alphabet[n % 30]}QQQ"
        return requests.get(f"{stack.url}/v2/bookings/token/{token}", headers=callers[n % 11], timeout=30)

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(guess, range(44)))
    statuses = [a.status_code for a in answers]
    assert statuses.count(404) == 10, statuses
    assert statuses.count(429) == 34
    waits = [int(a.headers["Retry-After"]) for a in answers if a.status_code == 429]
    # Until the oldest counted failures leave the window: ≤ 66 s (less when the burst straddled two 6-second slots).
    assert all(0 < wait <= 66 for wait in waits), waits
