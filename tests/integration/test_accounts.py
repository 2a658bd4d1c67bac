"""Accounts through the accounts function's real handler: offerers, venues, bank accounts, API keys, beneficiaries."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from stdnum import luhn

from pass_culture import aws
from tests.conftest import count_round_trips
from tests.events import FakeContext, claims_of
from tests.integration.conftest import Answer, call_api

IBAN = "FR7630006000011234567890189"
BIC = "AGRIFRPPXXX"


def new_siren() -> str:
    body = f"{random.randrange(10**7, 10**8)}"
    return body + luhn.calc_check_digit(body)


def new_siret(siren: str) -> str:
    body = siren + f"{random.randrange(10**3, 10**4)}"
    return body + luhn.calc_check_digit(body)


def venue_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Librairie",
        "address": "1 rue du Livre",
        "postalCode": "75003",
        "city": "Paris",
        "latitude": 48.86,
        "longitude": 2.35,
        "bookingEmail": "resa@librairie.example",
    }
    return {**body, **overrides}


def beneficiary_body(birth_date: str, email: str | None = None) -> dict[str, Any]:
    return {
        "email": email or f"young-{random.randrange(10**9)}@example.org",
        "firstName": "Jeanne",
        "lastName": "Jeune",
        "birthDate": birth_date,
        "phone": "06 12 34 56 78",
        "postalCode": "75011",
    }


ADMIN = claims_of("admin", "admin-1")
MEMBER = claims_of("pro", "pro-member")
OTHER_PRO = claims_of("pro", "pro-other")


class World:
    """One offerer (with a venue, a bank account, an API key) owned by MEMBER, and a registered beneficiary."""

    def __init__(self, call: Callable[..., Answer]) -> None:
        self.call = call
        self.siren = new_siren()
        self.offerer_id = self.ok(
            call("POST", "/offerers", body={"siren": self.siren, "name": "Librairie"}, claims=MEMBER)
        )["id"]
        self.venue = self.ok(self.post_venue(venue_body(siret=new_siret(self.siren)), MEMBER))
        self.ok(self.put_bank_account(MEMBER))
        young = self.ok(call("POST", "/beneficiaries", body=beneficiary_body("2008-01-15"), claims=ADMIN))
        self.beneficiary = claims_of("beneficiary", young["id"])

    @staticmethod
    def ok(answer: Answer) -> Any:
        assert answer.status < 300, (answer.status, answer.body)
        return answer.body

    def post_venue(self, body: dict[str, Any], claims: dict[str, str] | None, offerer_id: str | None = None) -> Answer:
        offerer_id = offerer_id or self.offerer_id
        return self.call(
            "POST", f"/offerers/{offerer_id}/venues", resource="/offerers/{offererId}/venues",
            params={"offererId": offerer_id}, body=body, claims=claims,
        )  # fmt: skip

    def put_bank_account(self, claims: dict[str, str] | None, iban: str = IBAN, bic: str = BIC) -> Answer:
        return self.call(
            "PUT", f"/offerers/{self.offerer_id}/bank-account", resource="/offerers/{offererId}/bank-account",
            params={"offererId": self.offerer_id}, body={"iban": iban, "bic": bic, "label": "Compte courant"},
            claims=claims,
        )  # fmt: skip


@pytest.fixture
def accounts(deployed: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    module = deployed("AccountsApiFunction")
    monkeypatch.setattr(module, "service", _frozen_clock_service(module))
    return module


def _frozen_clock_service(module: Any) -> Any:
    """The real service, with "now" fixed to 2026-11-23 12:00 UTC so ages and expiry dates are exact."""
    from functools import cache

    from pass_culture.accounts import service as accounts_service
    from pass_culture.clock import FixedClock

    @cache
    def service() -> accounts_service.AccountsService:
        built = accounts_service.build_accounts_service()
        built._clock = FixedClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
        return built

    return service


@pytest.fixture
def world(accounts: Any) -> World:
    return World(call_api(accounts))


ROLES = ("anonymous", "beneficiary", "other pro", "member pro", "admin")


def test_who_may_call_each_accounts_route(world: World) -> None:
    """Every route of the accounts API × every kind of caller → the expected status."""
    claims_by_role = {
        "anonymous": None,
        "beneficiary": world.beneficiary,
        "other pro": OTHER_PRO,
        "member pro": MEMBER,
        "admin": ADMIN,
    }
    o = world.offerer_id

    def requests() -> dict[str, Callable[[dict[str, str] | None], Answer]]:
        call = world.call
        by_offerer = {"offererId": o}

        def delete_key(claims: dict[str, str] | None) -> Answer:
            key_id = world.ok(
                call(
                    "POST",
                    f"/offerers/{o}/api-keys",
                    resource="/offerers/{offererId}/api-keys",
                    params=by_offerer,
                    claims=MEMBER,
                )
            )["id"]
            return call(
                "DELETE", f"/offerers/{o}/api-keys/{key_id}", resource="/offerers/{offererId}/api-keys/{apiKeyId}",
                params={"offererId": o, "apiKeyId": key_id}, claims=claims,
            )  # fmt: skip

        return {
            "POST /offerers": lambda c: call("POST", "/offerers", body={"siren": new_siren(), "name": "X"}, claims=c),
            "POST /admin/offerers/{id}/validate": lambda c: call(
                "POST",
                f"/admin/offerers/{o}/validate",
                resource="/admin/offerers/{offererId}/validate",
                params=by_offerer,
                claims=c,
            ),
            "POST /offerers/{id}/venues": lambda c: world.post_venue(venue_body(siret=new_siret(world.siren)), c),
            "PUT /offerers/{id}/bank-account": lambda c: world.put_bank_account(c),
            "POST /admin/offerers/{id}/bank-account/accept": lambda c: call(
                "POST",
                f"/admin/offerers/{o}/bank-account/accept",
                resource="/admin/offerers/{offererId}/bank-account/accept",
                params=by_offerer,
                claims=c,
            ),
            "POST /offerers/{id}/api-keys": lambda c: call(
                "POST",
                f"/offerers/{o}/api-keys",
                resource="/offerers/{offererId}/api-keys",
                params=by_offerer,
                claims=c,
            ),
            "GET /offerers/{id}/api-keys": lambda c: call(
                "GET", f"/offerers/{o}/api-keys", resource="/offerers/{offererId}/api-keys", params=by_offerer, claims=c
            ),
            "DELETE /offerers/{id}/api-keys/{keyId}": delete_key,
            "POST /beneficiaries": lambda c: call(
                "POST", "/beneficiaries", body=beneficiary_body("2008-03-01"), claims=c
            ),
            "GET /me": lambda c: call("GET", "/me", claims=c),
        }

    expected = {
        #                                              anonymous beneficiary other-pro member-pro admin
        "POST /offerers":                               (401, 403, 201, 201, 403),
        "POST /admin/offerers/{id}/validate":           (401, 403, 403, 403, 200),
        "POST /offerers/{id}/venues":                   (401, 403, 403, 201, 403),
        "PUT /offerers/{id}/bank-account":              (401, 403, 403, 200, 403),
        "POST /admin/offerers/{id}/bank-account/accept": (401, 403, 403, 403, 200),
        "POST /offerers/{id}/api-keys":                 (401, 403, 403, 201, 403),
        "GET /offerers/{id}/api-keys":                  (401, 403, 403, 200, 403),
        "DELETE /offerers/{id}/api-keys/{keyId}":       (401, 403, 403, 204, 403),
        "POST /beneficiaries":                          (401, 403, 403, 403, 201),
        "GET /me":                                      (401, 200, 403, 403, 403),
    }  # fmt: skip
    actual = {
        route: tuple(request(claims_by_role[role]).status for role in ROLES) for route, request in requests().items()
    }
    assert actual == expected


def test_guessed_offerer_ids_are_forbidden_not_found(world: World) -> None:
    for offerer_id in ("does-not-exist", world.offerer_id):
        answer = world.post_venue(venue_body(siret=new_siret(world.siren)), OTHER_PRO, offerer_id=offerer_id)
        assert (answer.status, answer.body["code"]) == (403, "NOT_OFFERER_MEMBER")


def test_offerers_start_new_and_an_admin_validates_them(world: World) -> None:
    siren = new_siren()
    created = world.call(
        "POST", "/offerers", body={"siren": f"{siren[:3]} {siren[3:6]} {siren[6:]}", "name": "Ciné"}, claims=MEMBER
    )
    assert created.status == 201
    assert created.body["validationStatus"] == "NEW"
    assert created.body["siren"] == siren
    again = world.call("POST", "/offerers", body={"siren": siren, "name": "Autre"}, claims=OTHER_PRO)
    assert (again.status, again.body["status"]) == (202, "PENDING")  # a request to join it (test_collaborators.py)
    bad = world.call("POST", "/offerers", body={"siren": "123456789", "name": "X"}, claims=MEMBER)
    assert (bad.status, bad.body["code"]) == (400, "INVALID_SIREN")
    oid = created.body["id"]
    validated = world.call(
        "POST",
        f"/admin/offerers/{oid}/validate",
        resource="/admin/offerers/{offererId}/validate",
        params={"offererId": oid},
        claims=ADMIN,
    )
    assert validated.body["validationStatus"] == "VALIDATED"
    unknown = world.call(
        "POST",
        "/admin/offerers/nope/validate",
        resource="/admin/offerers/{offererId}/validate",
        params={"offererId": "nope"},
        claims=ADMIN,
    )
    assert unknown.status == 404


def test_venues_with_a_siret(world: World) -> None:
    other_siren = new_siren()
    not_ours = world.post_venue(venue_body(siret=new_siret(other_siren)), MEMBER)
    assert (not_ours.status, not_ours.body["code"]) == (422, "SIRET_NOT_OF_OFFERER")
    valid = new_siret(world.siren)
    wrong_check_digit = valid[:-1] + str((int(valid[-1]) + 1) % 10)  # (the SIREN + "00000" was valid 1 time in 10)
    invalid = world.post_venue(venue_body(siret=wrong_check_digit), MEMBER)
    assert (invalid.status, invalid.body["code"]) == (400, "INVALID_SIRET")
    taken = world.post_venue(venue_body(siret=world.venue["siret"]), MEMBER)
    assert (taken.status, taken.body["code"]) == (409, "SIRET_ALREADY_REGISTERED")
    assert world.venue["pricingPointVenueId"] == world.venue["id"]  # its own pricing point


def test_a_library_without_siret_is_attached_to_a_pricing_point(world: World) -> None:
    library = world.post_venue(
        venue_body(name="Médiathèque", comment="Rattachée à la commune", pricingPointVenueId=world.venue["id"]), MEMBER
    )
    assert library.status == 201
    assert library.body["siret"] is None
    assert library.body["pricingPointVenueId"] == world.venue["id"]
    no_siret_point = world.post_venue(
        venue_body(name="Annexe", comment="Rattachée", pricingPointVenueId=library.body["id"]), MEMBER
    )
    assert (no_siret_point.status, no_siret_point.body["code"]) == (422, "INVALID_PRICING_POINT")
    unknown_point = world.post_venue(venue_body(comment="Rattachée", pricingPointVenueId="nope"), MEMBER)
    assert unknown_point.status == 422


@pytest.mark.parametrize(
    "overrides",
    [
        {},  # neither siret nor comment
        {"siret": "x", "comment": "both"},
        {"comment": "no pricing point"},
        {"latitude": 91, "siret": "1"},
        {"longitude": -181, "siret": "1"},
        {"postalCode": "7500", "siret": "1"},
        {"bookingEmail": "not-an-email", "siret": "1"},
        {"unknownField": 1, "siret": "1"},
    ],
)
def test_bad_venue_input_is_a_400_naming_the_problem(world: World, overrides: dict[str, Any]) -> None:
    answer = world.post_venue(venue_body(**overrides), MEMBER)
    assert answer.status == 400
    assert answer.body["code"] == "BAD_REQUEST"
    assert answer.body["details"]


def test_bank_accounts_are_checked_masked_and_accepted_by_an_admin(world: World) -> None:
    o = world.offerer_id
    put = world.put_bank_account(MEMBER)
    assert put.body == {
        "status": "PENDING",
        "iban": "FR76•••••••••••••••••••0189",
        "bic": BIC,
        "label": "Compte courant",
    }
    assert IBAN not in json.dumps(put.body)
    bad_iban = world.put_bank_account(MEMBER, iban=IBAN[:-1] + "8")
    assert (bad_iban.status, bad_iban.body["code"]) == (400, "INVALID_IBAN")
    bad_bic = world.put_bank_account(MEMBER, bic="AGRI")
    assert (bad_bic.status, bad_bic.body["code"]) == (400, "INVALID_BIC")
    accept = world.call(
        "POST",
        f"/admin/offerers/{o}/bank-account/accept",
        resource="/admin/offerers/{offererId}/bank-account/accept",
        params={"offererId": o},
        claims=ADMIN,
    )
    assert accept.body["status"] == "ACCEPTED"
    assert IBAN not in json.dumps(accept.body)
    assert world.put_bank_account(MEMBER).body["status"] == "PENDING"  # a change must be accepted again


def test_api_keys_are_shown_once_work_and_can_be_revoked(world: World, deployed: Any) -> None:
    o = world.offerer_id
    created = world.call(
        "POST",
        f"/offerers/{o}/api-keys",
        resource="/offerers/{offererId}/api-keys",
        params={"offererId": o},
        claims=MEMBER,
    )
    secret = created.body["apiKey"]
    listed = world.call(
        "GET",
        f"/offerers/{o}/api-keys",
        resource="/offerers/{offererId}/api-keys",
        params={"offererId": o},
        claims=MEMBER,
    )
    assert secret not in json.dumps(listed.body)
    assert [k["prefix"] for k in listed.body["items"]] == [secret[:8]]
    authorizer = deployed("ApiKeyAuthorizerFunction")
    event = {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:eu-west-3:1:a/prod/GET/v2/x",
        "headers": {"Authorization": f"Bearer {secret}"},
    }
    assert authorizer.lambda_handler(event, FakeContext())["context"]["offererId"] == o
    key_id = created.body["id"]
    path = f"/offerers/{o}/api-keys/{key_id}"
    revoke = world.call(
        "DELETE",
        path,
        resource="/offerers/{offererId}/api-keys/{apiKeyId}",
        params={"offererId": o, "apiKeyId": key_id},
        claims=MEMBER,
    )
    assert revoke.status == 204
    with pytest.raises(PermissionError):
        authorizer.lambda_handler(event, FakeContext())
    unknown = world.call(
        "DELETE",
        f"/offerers/{o}/api-keys/nope",
        resource="/offerers/{offererId}/api-keys/{apiKeyId}",
        params={"offererId": o, "apiKeyId": "nope"},
        claims=MEMBER,
    )
    assert unknown.status == 404


@pytest.mark.parametrize(
    ("birth_date", "initial", "digital", "expires_at"),
    [
        ("2008-11-23", 30000, 10000, "2028-11-23T12:00:00.000Z"),  # 18 today: 300 €, 24 months
        (
            "2008-11-24",
            3000,
            3000,
            "2026-11-23T23:00:00.000Z",
        ),  # 17 until tomorrow: until 00:00 Paris on the 18th birthday
        ("2010-06-30", 3000, 3000, "2028-06-29T22:00:00.000Z"),  # 16
        ("2011-11-23", 2000, 2000, "2029-11-22T23:00:00.000Z"),  # 15 today
    ],
)
def test_beneficiaries_get_the_credit_of_their_age(
    world: World, birth_date: str, initial: int, digital: int, expires_at: str
) -> None:
    created = world.call("POST", "/beneficiaries", body=beneficiary_body(birth_date), claims=ADMIN)
    assert created.status == 201
    credit = created.body["credit"]
    assert (credit["initialCents"], credit["remainingCents"], credit["digitalRemainingCents"]) == (
        initial,
        initial,
        digital,
    )
    assert credit["expiresAt"] == expires_at
    me = world.call("GET", "/me", claims=claims_of("beneficiary", created.body["id"]))
    assert me.body == created.body


@pytest.mark.parametrize("birth_date", ["2011-11-24", "2007-11-23", "2027-01-01"])
def test_under_15_over_18_or_unborn_is_refused(world: World, birth_date: str) -> None:
    answer = world.call("POST", "/beneficiaries", body=beneficiary_body(birth_date), claims=ADMIN)
    assert answer.status == 422
    assert answer.body["code"] in {"AGE_NOT_ELIGIBLE", "INVALID_BIRTH_DATE"}


def test_a_beneficiary_is_registered_once_and_put_in_the_beneficiary_group(world: World) -> None:
    body = beneficiary_body("2008-01-01", email="Twice@Example.org")
    first = world.call("POST", "/beneficiaries", body=body, claims=ADMIN)
    assert first.body["email"] == "twice@example.org"
    again = world.call("POST", "/beneficiaries", body=body, claims=ADMIN)
    assert (again.status, again.body["code"]) == (409, "BENEFICIARY_ALREADY_REGISTERED")
    cognito = aws.client("cognito-idp")
    pool = cognito.list_user_pools(MaxResults=10)["UserPools"][0]["Id"]
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool, Username="twice@example.org")["Groups"]
    assert [g["GroupName"] for g in groups] == ["beneficiary"]


def test_me_before_registration_is_404(world: World) -> None:
    answer = world.call("GET", "/me", claims=claims_of("beneficiary", "not-registered"))
    assert (answer.status, answer.body["code"]) == (404, "BENEFICIARY_NOT_FOUND")


def test_dynamodb_round_trips(world: World) -> None:
    """Creating a venue: 1 BatchGetItem (membership, offerer, pricing point) + 1 transaction; GET /me: 1 BatchGetItem."""
    counter = count_round_trips(aws.dynamodb())
    assert world.post_venue(venue_body(siret=new_siret(world.siren)), MEMBER).status == 201
    assert counter.calls == ["BatchGetItem", "TransactWriteItems"]
    counter.reset()
    library = venue_body(comment="Rattachée", pricingPointVenueId=world.venue["id"])
    assert world.post_venue(library, MEMBER).status == 201
    assert counter.calls == ["BatchGetItem", "TransactWriteItems"]
    counter.reset()
    assert world.call("GET", "/me", claims=world.beneficiary).status == 200
    assert counter.calls == ["BatchGetItem"]


# -- at most 10 active API keys per offerer (issue 9) ------------------------------------------------------------
def api_key_call(world: World, method: str, key_id: str | None = None) -> Answer:
    o = world.offerer_id
    if key_id is None:
        return world.call(
            method, f"/offerers/{o}/api-keys", resource="/offerers/{offererId}/api-keys",
            params={"offererId": o}, claims=MEMBER,
        )  # fmt: skip
    return world.call(
        method, f"/offerers/{o}/api-keys/{key_id}", resource="/offerers/{offererId}/api-keys/{apiKeyId}",
        params={"offererId": o, "apiKeyId": key_id}, claims=MEMBER,
    )  # fmt: skip


def test_an_offerer_holds_at_most_ten_active_api_keys(world: World) -> None:
    from pass_culture.settings import MAX_ACTIVE_API_KEYS_PER_OFFERER

    assert MAX_ACTIVE_API_KEYS_PER_OFFERER == 10
    created = [api_key_call(world, "POST") for _ in range(10)]
    assert [answer.status for answer in created] == [201] * 10
    refused = api_key_call(world, "POST")
    assert (refused.status, refused.body["code"]) == (409, "TOO_MANY_API_KEYS")
    assert "revoke one" in refused.body["message"]
    assert refused.body["details"] == [{"activeApiKeysLimit": 10}]
    assert len(api_key_call(world, "GET").body["items"]) == 10  # the refused one was not stored
    first = created[0].body["id"]
    assert api_key_call(world, "DELETE", first).status == 204
    assert api_key_call(world, "DELETE", first).status == 204  # revoking twice frees one place, not two
    assert api_key_call(world, "POST").status == 201
    assert api_key_call(world, "POST").status == 409
    listed = api_key_call(world, "GET").body["items"]
    assert (len(listed), sum(1 for k in listed if k["revokedAt"] is None)) == (11, 10)


def test_api_key_creation_and_revocation_round_trips(world: World) -> None:
    """Creating: the membership (GetItem), then the key and the offerer's count in one transaction. Revoking: the
    membership, the key by the offerer's index (Query), then the revocation and the count in one transaction."""
    calls = count_round_trips(aws.dynamodb())
    created = api_key_call(world, "POST")
    assert created.status == 201
    assert calls.calls == ["GetItem", "TransactWriteItems"]
    calls.reset()
    assert api_key_call(world, "DELETE", created.body["id"]).status == 204
    assert calls.calls == ["GetItem", "Query", "TransactWriteItems"]


def test_parallel_api_key_creations_stop_at_ten() -> None:
    """Through the embedded AWS (moto behind one lock): 30 creations at once for one offerer store exactly 10."""
    from concurrent.futures import ThreadPoolExecutor

    import boto3
    from botocore.config import Config

    from infra.local.embedded_aws import EmbeddedAws, provision
    from infra.local.template import load_template
    from pass_culture import dynamo
    from pass_culture.accounts.api_keys import ApiKeyRepository, TooManyApiKeys

    embedded = EmbeddedAws()
    embedded.start()
    try:
        provisioned = provision(embedded, load_template())
        client = boto3.client(
            "dynamodb", endpoint_url=embedded.endpoint, region_name="eu-west-3", aws_access_key_id="testing",
            aws_secret_access_key="testing", config=Config(max_pool_connections=30),
        )  # fmt: skip
        keys = ApiKeyRepository(dynamo.Table(client, provisioned.ref("Table")))

        def create(n: int) -> bool:
            try:
                keys.add(
                    f"secret-{n}", api_key_id=f"k{n}", offerer_id="o1", prefix="secret-", created_at=datetime.now(UTC)
                )
            except TooManyApiKeys:
                return False
            return True

        with ThreadPoolExecutor(max_workers=30) as pool:
            assert sum(pool.map(create, range(30))) == 10
        assert len(keys.list_for_offerer("o1")) == 10
    finally:
        embedded.stop()
