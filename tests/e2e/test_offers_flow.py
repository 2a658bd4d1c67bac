"""Offers over HTTP: a young person searches around them; a bookshop publishes, with its catalogue and images."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import requests

from tests.e2e.conftest import ROOT, RunningStack

BOOKSELLER = "libraire@librairie-marais.example"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_young_person_finds_the_seeded_offers_around_paris(stack: RunningStack) -> None:
    near = requests.get(f"{stack.url}/offers", params={"lat": 48.8566, "lon": 2.3522, "radiusKm": 5}, timeout=20).json()
    names = [item["name"] for item in near["items"]]
    assert "L'Étranger" in names
    assert all(item["venue"]["city"] == "Paris" for item in near["items"])
    assert [i["distanceKm"] for i in near["items"]] == sorted(i["distanceKm"] for i in near["items"])
    wide = requests.get(
        f"{stack.url}/offers", params={"lat": "48.8566", "lon": "2.3522", "radiusKm": "100", "q": "club"}, timeout=20
    )
    assert [item["name"] for item in wide.json()["items"]] == []  # Orléans is ~111 km away
    orleans = requests.get(
        f"{stack.url}/offers",
        params={"lat": "47.9029", "lon": "1.9093", "radiusKm": "10", "subcategoryId": "RENCONTRE"},
        timeout=20,
    ).json()["items"]
    assert [item["name"] for item in orleans] == ["Club de lecture : les classiques"]
    assert len(orleans[0]["stocks"]) == 2
    one = requests.get(f"{stack.url}/offers/{orleans[0]['id']}", timeout=10).json()
    assert one["isDuo"] is True
    assert one["stocks"][0]["remainingQuantity"] == 20
    assert (
        requests.get(f"{stack.url}/offers", params={"lat": 100, "lon": 2, "radiusKm": 5}, timeout=10).status_code == 400
    )


def test_a_bookshop_publishes_a_book_retries_safely_and_uploads_its_cover(stack: RunningStack) -> None:
    token = stack.login(BOOKSELLER)
    near = requests.get(f"{stack.url}/offers", params={"lat": 48.859, "lon": 2.356, "radiusKm": 1}, timeout=20).json()
    venue_id = near["items"][0]["venueId"]
    body = {
        "venueId": venue_id,
        "subcategoryId": "LIVRE_PAPIER",
        "ean": "9782070368228",
        "description": "Indispensable.",
    }
    key = {"Idempotency-Key": f"e2e-{uuid.uuid4().hex}"}
    first = requests.post(f"{stack.url}/offers", json=body, headers=auth(token) | key, timeout=10)
    retry = requests.post(f"{stack.url}/offers", json=body, headers=auth(token) | key, timeout=10)
    assert first.status_code == retry.status_code == 201
    assert first.json()["id"] == retry.json()["id"]
    assert first.json()["name"] == "1984"  # from the seeded catalogue
    offer_id = first.json()["id"]
    school = requests.post(
        f"{stack.url}/offers", json={**body, "ean": "9782091890302"}, headers=auth(token), timeout=10
    )
    assert (school.status_code, school.json()["code"]) == (422, "INELIGIBLE_BOOK")
    # refused with a key (as the portal sends it), the corrected request may use the same key: its record is gone
    corrected = {"Idempotency-Key": f"e2e-{uuid.uuid4().hex}"}
    school = requests.post(
        f"{stack.url}/offers", json={**body, "ean": "9782091890302"}, headers=auth(token) | corrected, timeout=10
    )
    assert (school.status_code, school.json()["code"]) == (422, "INELIGIBLE_BOOK")
    good = {**body, "ean": "9782253096344", "description": "Corrigé."}
    assert (
        requests.post(f"{stack.url}/offers", json=good, headers=auth(token) | corrected, timeout=10).status_code == 201
    )

    image = requests.post(
        f"{stack.url}/offers/{offer_id}/image", json={"contentType": "image/png"}, headers=auth(token), timeout=10
    )
    assert image.status_code == 201
    upload = image.json()["upload"]
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    sent = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("cover.png", png, "image/png")}, timeout=10
    )
    assert sent.status_code in (200, 204), sent.text
    stored = requests.get(f"{stack.url}/_local/files/{image.json()['imageKey']}", timeout=10)
    assert stored.content == png
    # the offer says where browsers read its image (CloudFront in AWS, the gateway here): the bucket stays private
    image_url = requests.get(f"{stack.url}/offers/{offer_id}", timeout=10).json()["imageUrl"]
    assert image_url == f"{stack.url}/_local/files/{image.json()['imageKey']}"
    assert requests.get(image_url, timeout=10).content == png
    replacing = requests.post(
        f"{stack.url}/offers/{offer_id}/image", json={"contentType": "image/webp"}, headers=auth(token), timeout=10
    )
    assert replacing.status_code == 201
    assert requests.get(image_url, timeout=10).status_code == 404  # the replaced image is not kept

    listing = requests.get(f"{stack.url}/venues/{venue_id}/offers", headers=auth(token), timeout=10).json()["items"]
    assert {item["name"]: item["status"] for item in listing}["1984"] == "SOLD_OUT"  # no stock yet
    assert (
        requests.post(
            f"{stack.url}/offers/{offer_id}/stocks",
            json={"priceCents": 990, "quantity": 2},
            headers=auth(token),
            timeout=10,
        ).status_code
        == 201
    )
    listing = requests.get(f"{stack.url}/venues/{venue_id}/offers", headers=auth(token), timeout=10).json()["items"]
    assert {item["name"]: item["status"] for item in listing}["1984"] == "ACTIVE"


def test_make_load_catalogue_sends_a_csv_to_the_running_stack(stack: RunningStack, tmp_path: Path) -> None:
    csv = tmp_path / "books.csv"
    csv.write_text(
        "ean,title,author,publisher,clil\n9782070413119,Voyage au bout de la nuit,Céline,Gallimard,3435\nbad,row,,,\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-m", "infra.local.load_catalogue", str(csv), "--url", stack.url],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert '"loaded": 1' in loaded.stdout
    assert '"rejected": 1' in loaded.stdout
