"""An offerer's team in the table (docs/data-model.md, "Collaborators"): its members, the invitations it sent and
the requests to join it. The only code that knows these keys. Every change of who belongs is one transaction:

- joining (the offerer's creation, an accepted invitation or attachment request) writes the membership the route
  gate reads (`USER#<sub>` / `OFFERER#<id>`, conditioned on being new), the team's member line, the member's email
  (`TEAM#EMAIL#<email>`: an invitation to it is refused) and `ADD memberCount 1` on `OFFERER#<id>` / `MEMBERS`;
- leaving deletes them and takes 1 from `memberCount` on the condition that it stays at least 1: two members
  removing each other at once leave one;
- until a request is accepted nothing of it is a membership, so the requester sees nothing of the offerer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pass_culture.accounts.models import (
    AttachmentRequest,
    AttachmentStatus,
    Invitation,
    InvitationStatus,
    TeamMember,
)
from pass_culture.accounts.repository import membership_key, siren_key
from pass_culture.clock import isoformat
from pass_culture.dynamo import (
    ITEM_EXISTS,
    ITEM_IS_NEW,
    ConditionCheck,
    Delete,
    Expression,
    Item,
    Operation,
    Put,
    Table,
    Update,
    key,
)

TEAM = "TEAM#"


def members_count_key(offerer_id: str) -> Item:
    return key(f"OFFERER#{offerer_id}", "MEMBERS")


def team_member_key(offerer_id: str, user_id: str) -> Item:
    return key(f"OFFERER#{offerer_id}", f"TEAM#MEMBER#{user_id}")


def member_email_key(offerer_id: str, email: str) -> Item:
    return key(f"OFFERER#{offerer_id}", f"TEAM#EMAIL#{email.lower()}")


def attachment_key(offerer_id: str, user_id: str) -> Item:
    return key(f"OFFERER#{offerer_id}", f"TEAM#REQUEST#{user_id}")


def pending_invitation_key(offerer_id: str, email: str) -> Item:
    return key(f"OFFERER#{offerer_id}", f"TEAM#INVITATION#{email.lower()}")


def invitation_key(invitation_id: str) -> Item:
    return key(f"INVITATION#{invitation_id}", "INVITATION")


def present(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields that have a value (nothing stored as NULL)."""
    return {name: value for name, value in fields.items() if value is not None}


PENDING = Expression("#status = :pending", {"#status": "status"}, {":pending": "PENDING"})


def link_operations(offerer_id: str, member: TeamMember) -> list[Operation]:
    """What makes `member` one of the offerer's members (the gate reads the first item)."""
    operations: list[Operation] = [
        Put(
            {
                **membership_key(member.user_id, offerer_id),
                "entity": "MEMBERSHIP",
                "GSI1PK": f"OFFERER#{offerer_id}",
                "GSI1SK": f"USER#{member.user_id}",
                "offererId": offerer_id,
                "userId": member.user_id,
                "since": isoformat(member.since),
                **({"email": member.email} if member.email else {}),
            },
            ITEM_IS_NEW,
        ),
        Put({**team_member_key(offerer_id, member.user_id), "entity": "TEAM_MEMBER", **present(member.to_api())}),
        Update(members_count_key(offerer_id), Expression("ADD memberCount :one", values={":one": 1})),
    ]
    if member.email:
        operations.append(Put({**member_email_key(offerer_id, member.email), "userId": member.user_id}))
    return operations


class TeamRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    # -- reads -------------------------------------------------------------------------------------------------
    def team(self, offerer_id: str) -> tuple[list[TeamMember], list[AttachmentRequest], list[dict[str, Any]]]:
        """Members, pending requests and pending invitations (with their expiry): one Query of the team's lines."""
        members, requests, invitations = [], [], []
        for item in self._table.query_all(f"OFFERER#{offerer_id}", sort_prefix=TEAM):
            kind = str(item["SK"]).split("#")[1]
            if kind == "MEMBER":
                members.append(TeamMember.model_validate(item))
            elif kind == "REQUEST" and item.get("status") == AttachmentStatus.PENDING.value:
                requests.append(AttachmentRequest.model_validate(item))
            elif kind == "INVITATION":
                invitations.append(item)
        return members, requests, invitations

    def offerer_of_siren(self, siren: str) -> str | None:
        found = self._table.get(siren_key(siren), consistent=True)
        return str(found["offererId"]) if found else None

    def member(self, offerer_id: str, user_id: str) -> TeamMember | None:
        item = self._table.get(team_member_key(offerer_id, user_id), consistent=True)
        return TeamMember.model_validate(item) if item else None

    def is_member(self, user_id: str, offerer_id: str) -> bool:
        return self._table.get(membership_key(user_id, offerer_id), consistent=True, attributes=("PK",)) is not None

    def invitation(self, invitation_id: str) -> Invitation | None:
        if not 0 < len(invitation_id) <= 128:
            return None
        item = self._table.get(invitation_key(invitation_id), consistent=True)
        return Invitation.model_validate(item) if item else None

    def pending_invitation_id(self, offerer_id: str, email: str) -> str | None:
        item = self._table.get(pending_invitation_key(offerer_id, email), consistent=True)
        return str(item["invitationId"]) if item else None

    def attachment(self, offerer_id: str, user_id: str) -> AttachmentRequest | None:
        item = self._table.get(attachment_key(offerer_id, user_id), consistent=True)
        return AttachmentRequest.model_validate(item) if item else None

    # -- invitations -------------------------------------------------------------------------------------------
    def invite(self, invitation: Invitation, inviter_id: str, now: datetime) -> None:
        """The invitation, the offerer's pointer to it (one pending a person: refused while the one before is
        unexpired), the invited email not a member's, the inviter still a member. Raises TransactionCancelled: 1 a
        pending invitation, 2 a member's email, 3 the inviter is no longer a member."""
        offerer_id = invitation.offerer_id
        self._table.transact(
            [
                Put(
                    {**invitation_key(invitation.id), "entity": "INVITATION", **present(invitation.to_api())},
                    ITEM_IS_NEW,
                ),
                Put(
                    {
                        **pending_invitation_key(offerer_id, invitation.email),
                        "invitationId": invitation.id,
                        "email": invitation.email,
                        "invitedAt": isoformat(invitation.invited_at),
                        "expiresAt": isoformat(invitation.expires_at),
                    },
                    Expression(
                        "attribute_not_exists(#pk) OR expiresAt <= :now", {"#pk": "PK"}, {":now": isoformat(now)}
                    ),
                ),
                ConditionCheck(member_email_key(offerer_id, invitation.email), ITEM_IS_NEW),
                ConditionCheck(membership_key(inviter_id, offerer_id), ITEM_EXISTS),
            ]
        )

    def accept_invitation(self, invitation: Invitation, member: TeamMember, *, link: bool) -> None:
        """ACCEPTED (only from PENDING and unexpired), the offerer's pointer gone, and — unless the person already
        belongs (`link=False`) — the person linked, all at once. TransactionCancelled: 0 the invitation moved (or
        expired), 2 the person became a member meanwhile."""
        at = isoformat(member.since)
        operations: list[Operation] = [
            Update(
                invitation_key(invitation.id),
                Expression(
                    "SET #status = :accepted, acceptedBy = :user, acceptedAt = :at",
                    {"#status": "status"},
                    {":accepted": InvitationStatus.ACCEPTED.value, ":user": member.user_id, ":at": at},
                ),
                Expression(
                    "#status = :pending AND expiresAt > :at", {"#status": "status"}, {":pending": "PENDING", ":at": at}
                ),
            ),
            Delete(
                pending_invitation_key(invitation.offerer_id, invitation.email),
                Expression("attribute_not_exists(#pk) OR invitationId = :id", {"#pk": "PK"}, {":id": invitation.id}),
            ),
        ]
        if link:
            operations += link_operations(invitation.offerer_id, member)
        self._table.transact(operations)

    # -- attachment requests -----------------------------------------------------------------------------------
    def request_attachment(self, request: AttachmentRequest) -> None:
        """A PENDING request (a new one only when none is pending), the requester not a member. TransactionCancelled:
        0 one is pending, 1 the requester is a member."""
        self._table.transact(
            [
                Put(
                    {
                        **attachment_key(request.offerer_id, request.user_id),
                        "entity": "ATTACHMENT_REQUEST",
                        **present(request.to_api()),
                    },
                    Expression(
                        "attribute_not_exists(#pk) OR #status <> :pending",
                        {"#pk": "PK", "#status": "status"},
                        {":pending": "PENDING"},
                    ),
                ),
                ConditionCheck(membership_key(request.user_id, request.offerer_id), ITEM_IS_NEW),
            ]
        )

    def decide_attachment(
        self, request: AttachmentRequest, status: AttachmentStatus, decided_by: str, at: datetime,
        member_id: str | None, *, link: bool,
    ) -> None:  # fmt: skip
        """PENDING → ACCEPTED (the requester linked, unless already a member: `link`) or REFUSED, the deciding pro
        still a member (`member_id`; None for an admin). TransactionCancelled: 0 no longer pending, 1 the requester
        became a member meanwhile (when linking), the last position the decider is no longer a member."""
        operations: list[Operation] = [
            Update(
                attachment_key(request.offerer_id, request.user_id),
                Expression(
                    "SET #status = :status, decidedAt = :at, decidedBy = :by",
                    {"#status": "status"},
                    {":status": status.value, ":at": isoformat(at), ":by": decided_by},
                ),
                PENDING,
            )
        ]
        if link:
            member = TeamMember(
                user_id=request.user_id, email=request.email, first_name=request.first_name,
                last_name=request.last_name, since=at,
            )  # fmt: skip
            operations += link_operations(request.offerer_id, member)
        if member_id is not None:
            operations.append(ConditionCheck(membership_key(member_id, request.offerer_id), ITEM_EXISTS))
        self._table.transact(operations)

    # -- leaving -----------------------------------------------------------------------------------------------
    def remove(self, offerer_id: str, member: TeamMember, remover_id: str) -> None:
        """The member's items gone and the count down by one, never below 1; the remover still a member.
        TransactionCancelled: 0 not a member (any more), 2 the last member, 3 the remover is not a member."""
        operations: list[Operation] = [
            Delete(membership_key(member.user_id, offerer_id), ITEM_EXISTS),
            Delete(team_member_key(offerer_id, member.user_id)),
            Update(
                members_count_key(offerer_id),
                Expression("ADD memberCount :minus", values={":minus": -1}),
                Expression("memberCount > :one", values={":one": 1}),
            ),
        ]
        if remover_id != member.user_id:
            operations.append(ConditionCheck(membership_key(remover_id, offerer_id), ITEM_EXISTS))
        if member.email:
            operations.append(
                Delete(
                    member_email_key(offerer_id, member.email),
                    Expression("attribute_not_exists(#pk) OR userId = :user", {"#pk": "PK"}, {":user": member.user_id}),
                )
            )
        self._table.transact(operations)
