"""`GET /offerers`: a pro learns their ids — each of their offerers with its venues, and nothing of anyone else's."""

from __future__ import annotations

from typing import Any

from tests.conftest import count_round_trips
from tests.integration.conftest import call_api
from tests.integration.test_accounts import (  # noqa: F401 - the accounts tests' fixtures
    MEMBER,
    OTHER_PRO,
    World,
    accounts,
    new_siren,
    new_siret,
    venue_body,
    world,
)


def test_a_pro_lists_their_offerers_with_their_venues(world: World, accounts: Any) -> None:  # noqa: F811
    call = call_api(accounts)
    second = world.ok(call("POST", "/offerers", body={"siren": new_siren(), "name": "Atelier"}, claims=MEMBER))
    world.ok(call("POST", "/offerers", body={"siren": new_siren(), "name": "Autre"}, claims=OTHER_PRO))
    answer = call("GET", "/offerers", claims=MEMBER)
    assert answer.status == 200
    listed = {offerer["id"]: offerer for offerer in answer.body["items"]}
    assert set(listed) == {world.offerer_id, second["id"]}
    mine = listed[world.offerer_id]
    assert (mine["name"], mine["siren"], mine["validationStatus"]) == ("Librairie", world.siren, "NEW")
    assert [(v["id"], v["siret"]) for v in mine["venues"]] == [(world.venue["id"], world.venue["siret"])]
    assert listed[second["id"]]["venues"] == []


def test_listing_costs_a_query_a_batch_and_a_query_an_offerer(world: World, accounts: Any) -> None:  # noqa: F811
    from pass_culture import aws

    call = call_api(accounts)
    world.ok(call("POST", f"/offerers/{world.offerer_id}/venues", resource="/offerers/{offererId}/venues",
                  params={"offererId": world.offerer_id}, body=venue_body(siret=new_siret(world.siren)), claims=MEMBER))  # fmt: skip
    counter = count_round_trips(aws.dynamodb())
    assert len(call("GET", "/offerers", claims=MEMBER).body["items"][0]["venues"]) == 2
    assert counter.calls == ["Query", "BatchGetItem", "Query"]


def test_a_pro_with_no_offerer_gets_an_empty_list_and_others_are_refused(accounts: Any) -> None:  # noqa: F811
    call = call_api(accounts)
    assert call("GET", "/offerers", claims=OTHER_PRO).body == {"items": []}
    assert call("GET", "/offerers").status == 401
    assert call("GET", "/offerers", claims={"sub": "b", "cognito:groups": "beneficiary"}).status == 403


def test_each_offerer_carries_its_bank_account_masked_with_its_status_once_entered(
    world: World,  # noqa: F811
    accounts: Any,  # noqa: F811
) -> None:
    """The portal's reimbursements page shows the bank details from here: never the whole IBAN."""
    call = call_api(accounts)
    newer = world.ok(call("POST", "/offerers", body={"siren": new_siren(), "name": "Atelier"}, claims=MEMBER))
    iban = "FR7630006000011234567890189"
    world.ok(call("PUT", f"/offerers/{world.offerer_id}/bank-account", resource="/offerers/{offererId}/bank-account",
                  params={"offererId": world.offerer_id}, body={"iban": iban, "bic": "AGRIFRPP", "label": "Compte"},
                  claims=MEMBER))  # fmt: skip
    listed = {offerer["id"]: offerer for offerer in call("GET", "/offerers", claims=MEMBER).body["items"]}
    assert listed[newer["id"]]["bankAccount"] is None  # none entered yet
    account = listed[world.offerer_id]["bankAccount"]
    assert (account["status"], account["bic"], account["label"]) == ("PENDING", "AGRIFRPP", "Compte")
    assert account["iban"] != iban and account["iban"].endswith(iban[-4:]) and iban[4:-4] not in account["iban"]
