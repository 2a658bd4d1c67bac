"""Collaborators of an offerer through the accounts function's real handler (moto behind): invitations (7 days, by
an injected clock), requests to join an existing SIREN, the team's list, leaving (never the last member), and the
emails they call for, sent by the notifications function from the table's stream."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import boto3
import pytest
from moto.ses.models import ses_backends

from pass_culture import aws
from pass_culture.clock import FixedClock
from tests.conftest import count_round_trips
from tests.events import FakeContext, claims_of
from tests.integration.conftest import Answer, call_api
from tests.integration.test_accounts import new_siren, new_siret, venue_body

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ADMIN = claims_of("admin", "admin-1")
OWNER = claims_of("pro", "owner")  # email owner@example.org
LIBRARIAN = claims_of("pro", "librarian")
STRANGER = claims_of("pro", "stranger")


def pro(sub: str) -> dict[str, str]:
    return claims_of("pro", sub)


class Team:
    """An authority's offerer owned by OWNER, and the calls of this feature."""

    def __init__(self, call: Callable[..., Answer], clock: FixedClock) -> None:
        self.call, self.clock = call, clock
        self.siren = new_siren()
        created = call("POST", "/offerers", body={"siren": self.siren, "name": "Ville de Saint-Ouen"}, claims=OWNER)
        assert created.status == 201, created.body
        self.offerer_id = created.body["id"]

    def declare(self, claims: dict[str, str], siren: str | None = None) -> Answer:
        return self.call("POST", "/offerers", body={"siren": siren or self.siren, "name": "Médiathèque"}, claims=claims)

    def invite(self, address: str, claims: dict[str, str] = OWNER, offerer_id: str | None = None) -> Answer:
        o = offerer_id or self.offerer_id
        return self.call(
            "POST", f"/offerers/{o}/invitations", resource="/offerers/{offererId}/invitations",
            params={"offererId": o}, body={"email": address}, claims=claims,
        )  # fmt: skip

    def accept_invitation(self, invitation_id: str, claims: dict[str, str]) -> Answer:
        return self.call(
            "POST", f"/invitations/{invitation_id}/accept", resource="/invitations/{invitationId}/accept",
            params={"invitationId": invitation_id}, claims=claims,
        )  # fmt: skip

    def decide(self, user_id: str, verb: str, claims: dict[str, str] = OWNER) -> Answer:
        o = self.offerer_id
        return self.call(
            "POST", f"/offerers/{o}/attachments/{user_id}/{verb}",
            resource=f"/offerers/{{offererId}}/attachments/{{userId}}/{verb}",
            params={"offererId": o, "userId": user_id}, claims=claims,
        )  # fmt: skip

    def members(self, claims: dict[str, str] = OWNER) -> Answer:
        o = self.offerer_id
        return self.call(
            "GET", f"/offerers/{o}/members", resource="/offerers/{offererId}/members", params={"offererId": o},
            claims=claims,
        )  # fmt: skip

    def remove(self, user_id: str, claims: dict[str, str] = OWNER) -> Answer:
        o = self.offerer_id
        return self.call(
            "DELETE", f"/offerers/{o}/members/{user_id}", resource="/offerers/{offererId}/members/{userId}",
            params={"offererId": o, "userId": user_id}, claims=claims,
        )  # fmt: skip

    def my_offerers(self, claims: dict[str, str]) -> list[str]:
        answer = self.call("GET", "/offerers", claims=claims)
        assert answer.status == 200
        return [offerer["id"] for offerer in answer.body["items"]]

    def venue(self, claims: dict[str, str], body: dict[str, Any]) -> Answer:
        o = self.offerer_id
        return self.call(
            "POST", f"/offerers/{o}/venues", resource="/offerers/{offererId}/venues", params={"offererId": o},
            body=body, claims=claims,
        )  # fmt: skip

    def join(self, claims: dict[str, str]) -> None:
        """`claims` becomes a member, by an invitation."""
        invitation = self.invite(claims["email"])
        assert invitation.status == 201, invitation.body
        assert self.accept_invitation(invitation.body["id"], claims).status == 200


@pytest.fixture
def team(deployed: Any, monkeypatch: pytest.MonkeyPatch) -> Team:
    from pass_culture.accounts import collaborators, service

    module = deployed("AccountsApiFunction")
    clock = FixedClock(NOW)

    @cache
    def accounts() -> service.AccountsService:
        built = service.build_accounts_service()
        built._clock = clock
        return built

    @cache
    def team_service() -> collaborators.CollaboratorsService:
        built = collaborators.build_collaborators_service(accounts())
        built._clock = clock
        return built

    monkeypatch.setattr(module, "service", accounts)
    monkeypatch.setattr(module, "collaborators", team_service)
    return Team(call_api(module), clock)


# -- the emails, from the table's stream through the notifications function ----------------------------------------
class Outbox:
    """Reads the table's stream from where it was last read and hands the records to the notifications function, as
    Lambda does; what SES sent, decoded."""

    def __init__(self, notifications: Any) -> None:
        from pass_culture.settings import get_settings

        self.function = notifications
        self.streams = boto3.client(
            "dynamodbstreams", region_name="eu-west-3", endpoint_url="https://streams.dynamodb.eu-west-3.amazonaws.com"
        )
        table = boto3.client("dynamodb", region_name="eu-west-3").describe_table(TableName=get_settings().table_name)
        self.arn = table["Table"]["LatestStreamArn"]
        shard = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=shard, ShardIteratorType="LATEST")[
            "ShardIterator"
        ]
        self.seen = 0

    def deliver(self) -> list[email.message.EmailMessage]:
        answer = self.streams.get_records(ShardIterator=self.iterator, Limit=1000)
        self.iterator = answer["NextShardIterator"]
        records = [{**record, "eventSourceARN": self.arn} for record in answer["Records"]]
        if records:
            assert self.function.lambda_handler({"Records": records}, FakeContext()) == {"batchItemFailures": []}
        backend = ses_backends["123456789012"]["eu-west-3"]
        sent = [email.message_from_string(m.raw_data, policy=email.policy.default) for m in backend.sent_messages]
        new, self.seen = sent[self.seen :], len(sent)
        return new


@pytest.fixture
def outbox(team: Team, deployed: Any, monkeypatch: pytest.MonkeyPatch) -> Outbox:
    from pass_culture.settings import get_settings

    notifications = deployed("NotificationsFunction")
    monkeypatch.setenv("PORTAL_ORIGIN", "https://pro.passculture.example/")  # the deployment's parameter
    get_settings.cache_clear()
    return Outbox(notifications)


def text_of(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


# -- invitations ---------------------------------------------------------------------------------------------------
def test_an_invitation_is_emailed_with_its_link_and_accepting_it_makes_a_member(team: Team, outbox: Outbox) -> None:
    outbox.deliver()  # the offerer's creation: nothing to send
    invited = team.invite("Librarian@Example.org")
    assert invited.status == 201, invited.body
    invitation = invited.body
    assert (invitation["email"], invitation["status"]) == ("librarian@example.org", "PENDING")
    assert invitation["expiresAt"] == "2026-11-30T12:00:00.000Z"  # 7 days
    (message,) = outbox.deliver()
    assert message["To"] == "librarian@example.org"
    assert message["Subject"] == "Invitation à rejoindre Ville de Saint-Ouen sur le pass Culture Pro"
    link = f"https://pro.passculture.example/pro/#/invitation?id={invitation['id']}"
    assert link in text_of(message)
    assert "owner@example.org vous invite" in text_of(message)
    assert "30/11/2026 à 13h00" in text_of(message)  # Paris time

    assert team.offerer_id not in team.my_offerers(LIBRARIAN)
    team.clock.advance(timedelta(hours=1))
    accepted = team.accept_invitation(invitation["id"], LIBRARIAN)
    assert (accepted.status, accepted.body["status"], accepted.body["offererId"]) == (200, "ACCEPTED", team.offerer_id)
    assert team.offerer_id in team.my_offerers(LIBRARIAN)
    again = team.accept_invitation(invitation["id"], LIBRARIAN)  # idempotent for the same person
    assert (again.status, again.body["acceptedAt"]) == (200, accepted.body["acceptedAt"])
    listed = team.members(LIBRARIAN).body
    assert [m["email"] for m in listed["members"]] == ["owner@example.org", "librarian@example.org"]
    assert listed["invitations"] == [] and listed["attachmentRequests"] == []
    assert outbox.deliver() == []  # accepting sends nothing


def test_reinviting_a_pending_email_answers_the_same_invitation_and_sends_no_second_email(
    team: Team, outbox: Outbox
) -> None:
    outbox.deliver()
    first = team.invite("librarian@example.org")
    assert len(outbox.deliver()) == 1
    team.clock.advance(timedelta(days=6))
    second = team.invite("LIBRARIAN@example.org")
    assert (second.status, second.body) == (201, first.body)
    assert outbox.deliver() == []
    listed = team.members().body["invitations"]
    assert [(i["id"], i["expired"]) for i in listed] == [(first.body["id"], False)]
    # expired: inviting again sends a new one, and the old one is gone (410)
    team.clock.advance(timedelta(days=1))
    assert team.members().body["invitations"][0]["expired"] is True
    third = team.invite("librarian@example.org")
    assert third.status == 201 and third.body["id"] != first.body["id"]
    assert len(outbox.deliver()) == 1
    old = team.accept_invitation(first.body["id"], LIBRARIAN)
    assert (old.status, old.body["code"]) == (410, "INVITATION_EXPIRED")
    assert team.accept_invitation(third.body["id"], LIBRARIAN).status == 200


def test_an_invitation_expires_after_seven_days(team: Team) -> None:
    invitation = team.invite("librarian@example.org").body
    team.clock.advance(timedelta(days=7) - timedelta(seconds=1))
    team.clock.advance(timedelta(seconds=1))  # exactly 7 days later: too late
    late = team.accept_invitation(invitation["id"], LIBRARIAN)
    assert (late.status, late.body["code"]) == (410, "INVITATION_EXPIRED")
    assert team.offerer_id not in team.my_offerers(LIBRARIAN)


def test_an_invitation_accepted_just_in_time(team: Team) -> None:
    invitation = team.invite("librarian@example.org").body
    team.clock.advance(timedelta(days=7) - timedelta(seconds=1))
    assert team.accept_invitation(invitation["id"], LIBRARIAN).status == 200


def test_invitation_refusals(team: Team) -> None:
    invitation = team.invite("librarian@example.org").body
    other = team.accept_invitation(invitation["id"], STRANGER)
    assert (other.status, other.body["code"]) == (403, "NOT_INVITED")
    unknown = team.accept_invitation("nope", LIBRARIAN)
    assert (unknown.status, unknown.body["code"]) == (404, "INVITATION_NOT_FOUND")
    member = team.invite("owner@example.org")
    assert (member.status, member.body["code"]) == (409, "ALREADY_MEMBER")
    outsider = team.invite("x@example.org", claims=STRANGER)
    assert (outsider.status, outsider.body["code"]) == (403, "NOT_OFFERER_MEMBER")
    bad = team.invite("not an email")
    assert (bad.status, bad.body["details"][0]["field"]) == (400, "email")
    beneficiary = team.accept_invitation(invitation["id"], claims_of("beneficiary", "librarian"))
    assert (beneficiary.status, beneficiary.body["code"]) == (403, "FORBIDDEN_GROUP")
    assert team.accept_invitation(invitation["id"], LIBRARIAN).status == 200
    # a member now: inviting them again is a 409
    assert team.invite("librarian@example.org").body["code"] == "ALREADY_MEMBER"


# -- requests to join an existing SIREN ----------------------------------------------------------------------------
def test_a_pro_declaring_an_existing_siren_asks_to_join_and_sees_nothing_until_accepted(
    team: Team, outbox: Outbox
) -> None:
    team.join(pro("colleague"))
    outbox.deliver()
    asked = team.declare(LIBRARIAN)
    assert asked.status == 202, asked.body
    assert (asked.body["siren"], asked.body["status"]) == (team.siren, "PENDING")
    assert "id" not in asked.body and "name" not in asked.body  # nothing of the offerer
    emails = outbox.deliver()
    assert sorted(m["To"] for m in emails) == ["colleague@example.org", "owner@example.org"]
    assert emails[0]["Subject"] == "Demande de rattachement à Ville de Saint-Ouen"
    assert "librarian@example.org demande à rejoindre" in text_of(emails[0])
    assert "https://pro.passculture.example/pro/#/structures" in text_of(emails[0])
    again = team.declare(LIBRARIAN)  # idempotent: the same request, the members are not emailed twice
    assert (again.status, again.body["requestedAt"]) == (202, asked.body["requestedAt"])
    assert outbox.deliver() == []

    # the requester sees nothing of the offerer: not listed, and every route gated by membership refuses
    assert team.offerer_id not in team.my_offerers(LIBRARIAN)
    for answer in (
        team.members(LIBRARIAN),
        team.invite("friend@example.org", claims=LIBRARIAN),
        team.venue(LIBRARIAN, venue_body(siret=new_siret(team.siren))),
        team.decide("librarian", "accept", claims=LIBRARIAN),
    ):
        assert (answer.status, answer.body["code"]) == (403, "NOT_OFFERER_MEMBER")
    pending = team.members().body["attachmentRequests"]
    assert [(r["userId"], r["email"], r["status"]) for r in pending] == [
        ("librarian", "librarian@example.org", "PENDING")
    ]

    accepted = team.decide("librarian", "accept")
    assert (accepted.status, accepted.body["status"], accepted.body["decidedBy"]) == (200, "ACCEPTED", "PRO:owner")
    assert team.decide("librarian", "accept").status == 200  # again: the same
    refused_after = team.decide("librarian", "refuse")
    assert (refused_after.status, refused_after.body["code"]) == (409, "ATTACHMENT_ALREADY_DECIDED")
    (outcome,) = outbox.deliver()
    assert (outcome["To"], outcome["Subject"]) == (
        "librarian@example.org",
        "Votre rattachement à Ville de Saint-Ouen est accepté",
    )
    assert team.offerer_id in team.my_offerers(LIBRARIAN)
    assert team.members(LIBRARIAN).body["attachmentRequests"] == []
    member = team.declare(LIBRARIAN)  # a member declaring the SIREN again
    assert (member.status, member.body["code"]) == (409, "ALREADY_MEMBER")


def test_a_refused_requester_is_told_and_stays_out_an_admin_may_decide(team: Team, outbox: Outbox) -> None:
    outbox.deliver()
    assert team.declare(LIBRARIAN).status == 202
    assert team.declare(STRANGER).status == 202
    outbox.deliver()
    refused = team.decide("librarian", "refuse")
    assert (refused.status, refused.body["status"]) == (200, "REFUSED")
    (message,) = outbox.deliver()
    assert (message["To"], message["Subject"]) == (
        "librarian@example.org",
        "Votre demande de rattachement à Ville de Saint-Ouen a été refusée",
    )
    assert team.offerer_id not in team.my_offerers(LIBRARIAN)
    assert team.decide("librarian", "accept").body["code"] == "ATTACHMENT_ALREADY_DECIDED"
    by_admin = team.decide("stranger", "accept", claims=ADMIN)
    assert (by_admin.status, by_admin.body["decidedBy"]) == (200, "ADMIN:admin-1")
    assert team.offerer_id in team.my_offerers(STRANGER)
    unknown = team.decide("nobody", "accept")
    assert (unknown.status, unknown.body["code"]) == (404, "ATTACHMENT_NOT_FOUND")
    # asking again after a refusal is a new request, emailed again
    assert team.declare(LIBRARIAN).status == 202
    assert {m["To"] for m in outbox.deliver()} >= {"owner@example.org"}


def test_a_requester_who_joined_by_an_invitation_is_no_longer_pending_and_cannot_be_refused(team: Team) -> None:
    assert team.declare(LIBRARIAN).status == 202
    invitation = team.invite("librarian@example.org")
    assert team.accept_invitation(invitation.body["id"], LIBRARIAN).status == 200
    assert team.members().body["attachmentRequests"] == []
    refused = team.decide("librarian", "refuse")
    assert (refused.status, refused.body["code"]) == (409, "ALREADY_MEMBER")
    assert team.offerer_id in team.my_offerers(LIBRARIAN)
    assert team.decide("librarian", "accept").status == 200  # accepting still closes the request, nothing to link


def test_an_invalid_siren_is_still_a_400_and_a_new_one_still_a_201(team: Team) -> None:
    bad = team.declare(LIBRARIAN, siren="123456789")
    assert (bad.status, bad.body["code"]) == (400, "INVALID_SIREN")
    assert team.declare(LIBRARIAN, siren=new_siren()).status == 201


def test_a_library_joins_then_adds_its_venue_on_the_authoritys_pricing_point(team: Team) -> None:
    hall = team.venue(OWNER, venue_body(name="Mairie", siret=new_siret(team.siren)))
    assert hall.status == 201
    assert team.declare(LIBRARIAN).status == 202
    refused = team.venue(LIBRARIAN, venue_body(comment="Médiathèque municipale", pricingPointVenueId=hall.body["id"]))
    assert refused.status == 403
    assert team.decide("librarian", "accept").status == 200
    library = team.venue(LIBRARIAN, venue_body(comment="Médiathèque municipale", pricingPointVenueId=hall.body["id"]))
    assert library.status == 201, library.body
    assert library.body["pricingPointVenueId"] == hall.body["id"]


# -- the team and leaving ------------------------------------------------------------------------------------------
def test_members_are_listed_and_removed_never_the_last(team: Team) -> None:
    team.clock.advance(timedelta(hours=1))
    team.join(LIBRARIAN)
    assert team.declare(STRANGER).status == 202
    pending = team.invite("friend@example.org").body
    listed = team.members().body
    assert [(m["userId"], m["email"], m["since"]) for m in listed["members"]] == [
        ("owner", "owner@example.org", "2026-11-23T12:00:00.000Z"),
        ("librarian", "librarian@example.org", "2026-11-23T13:00:00.000Z"),
    ]
    assert [r["userId"] for r in listed["attachmentRequests"]] == ["stranger"]
    assert [(i["id"], i["email"], i["expired"]) for i in listed["invitations"]] == [
        (pending["id"], "friend@example.org", False)
    ]
    assert team.remove("owner", claims=LIBRARIAN).status == 204
    assert team.offerer_id not in team.my_offerers(OWNER)
    assert team.members(OWNER).status == 403
    last = team.remove("librarian", claims=LIBRARIAN)
    assert (last.status, last.body["code"]) == (409, "LAST_MEMBER")
    gone = team.remove("owner", claims=LIBRARIAN)
    assert (gone.status, gone.body["code"]) == (404, "MEMBER_NOT_FOUND")
    # the removed member can be invited again
    assert team.invite("owner@example.org", claims=LIBRARIAN).status == 201


def test_two_members_removing_each_other_leave_one() -> None:
    """Through the embedded AWS (moto behind one lock), at once, many times: exactly one removal passes."""
    from concurrent.futures import ThreadPoolExecutor

    import boto3 as boto
    from botocore.config import Config

    from infra.local.embedded_aws import EmbeddedAws, provision
    from infra.local.template import load_template
    from pass_culture import dynamo
    from pass_culture.accounts.models import TeamMember
    from pass_culture.accounts.team import TeamRepository, link_operations

    embedded = EmbeddedAws()
    embedded.start()
    try:
        provisioned = provision(embedded, load_template())
        client = boto.client(
            "dynamodb", endpoint_url=embedded.endpoint, region_name="eu-west-3", aws_access_key_id="testing",
            aws_secret_access_key="testing", config=Config(max_pool_connections=10),
        )  # fmt: skip
        table = dynamo.Table(client, provisioned.ref("Table"))
        repository = TeamRepository(table)
        for round_ in range(10):
            offerer = f"o{round_}"
            a = TeamMember(user_id="a", email="a@example.org", since=NOW)
            b = TeamMember(user_id="b", email="b@example.org", since=NOW)
            for member in (a, b):
                table.transact(link_operations(offerer, member))

            def remove(pair: tuple[TeamMember, str], offerer: str = offerer) -> bool:
                try:
                    repository.remove(offerer, pair[0], pair[1])
                except dynamo.TransactionCancelled:
                    return False
                return True

            with ThreadPoolExecutor(max_workers=2) as pool:
                assert sum(pool.map(remove, [(a, "b"), (b, "a")])) == 1
            members, _, _ = repository.team(offerer)
            assert len(members) == 1
            count = table.get({"PK": f"OFFERER#{offerer}", "SK": "MEMBERS"})
            assert count is not None and count["memberCount"] == 1
    finally:
        embedded.stop()


def test_who_may_call_the_collaborators_routes(team: Team) -> None:
    invitation = team.invite("librarian@example.org").body
    assert team.declare(STRANGER).status == 202
    beneficiary = claims_of("beneficiary", "young")
    for claims, wanted in ((None, 401), (beneficiary, 403), (ADMIN, 403)):
        assert team.invite("x@example.org", claims=claims).status == wanted  # type: ignore[arg-type]
        assert team.members(claims).status == wanted  # type: ignore[arg-type]
        assert team.remove("owner", claims).status == wanted  # type: ignore[arg-type]
        assert team.accept_invitation(invitation["id"], claims).status == wanted  # type: ignore[arg-type]
    assert team.decide("stranger", "refuse", claims=beneficiary).status == 403
    assert team.decide("stranger", "refuse", claims=LIBRARIAN).status == 403  # not a member
    assert team.decide("stranger", "refuse", claims=ADMIN).status == 200


def test_round_trips(team: Team) -> None:
    calls = count_round_trips(aws.dynamodb())
    assert team.invite("librarian@example.org").status == 201
    # (after the route gate's membership GetItem) the offerer's name, then one transaction
    assert calls.calls == ["GetItem", "TransactWriteItems"]
    calls.reset()
    assert team.members().status == 200
    assert calls.calls == ["GetItem", "Query"]  # the use case's own membership check, the team's lines
    calls.reset()
    assert team.declare(LIBRARIAN).status == 202
    # the creation refused (SIREN taken), the SIREN's offerer, the offerer, its team, the request
    assert calls.calls == ["TransactWriteItems", "GetItem", "GetItem", "Query", "TransactWriteItems"]


def test_names_are_listed_when_the_token_has_them(team: Team) -> None:
    named = {**LIBRARIAN, "given_name": "Léa", "family_name": "Martin"}
    assert team.declare(named).status == 202
    (request,) = team.members().body["attachmentRequests"]
    assert (request["firstName"], request["lastName"]) == ("Léa", "Martin")
    assert "notifyEmails" not in request  # who was emailed is not shown
    assert team.decide("librarian", "accept").status == 200
    listed = {m["userId"]: m for m in team.members().body["members"]}
    assert (listed["librarian"]["firstName"], listed["librarian"]["lastName"]) == ("Léa", "Martin")
    assert listed["owner"]["firstName"] is None  # unknown: null, not made up
