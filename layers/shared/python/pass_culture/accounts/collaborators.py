"""Collaborators of an offerer (domain.md "Collaborators"): invitations by email, requests to join an existing SIREN,
the team's list, leaving. Who belongs changes in one transaction each (accounts/team.py); a requester is nothing of
the offerer until a member or an admin accepts (no membership item exists before).

Re-inviting an email whose invitation is still pending answers that invitation and writes nothing, so no second
email is sent (the team's list shows it pending until it expires; once expired, inviting again sends a new one)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pass_culture.access import ADMIN, PRO, Caller
from pass_culture.accounts.models import (
    AttachmentRequest,
    AttachmentStatus,
    CreateOffererInput,
    Invitation,
    InvitationStatus,
    Person,
    TeamMember,
)
from pass_culture.accounts.repository import AccountsRepository
from pass_culture.accounts.rules import valid_siren
from pass_culture.accounts.service import AccountsService
from pass_culture.accounts.team import TeamRepository
from pass_culture.clock import Clock, isoformat
from pass_culture.dynamo import TransactionCancelled
from pass_culture.errors import Conflict, Forbidden, Gone, NotFound
from pass_culture.ids import new_id
from pass_culture.settings import INVITATION_VALIDITY_DAYS

NOT_A_MEMBER = "You are not a member of this offerer."


def _not_a_member() -> Forbidden:
    return Forbidden(NOT_A_MEMBER, code="NOT_OFFERER_MEMBER")


def _already_member(who: str) -> Conflict:
    return Conflict(f"{who} already a member of this offerer.", code="ALREADY_MEMBER")


def request_to_api(request: AttachmentRequest) -> dict[str, Any]:
    """What the requester and the members see of a request (not who it was emailed to)."""
    answer = request.to_api()
    answer.pop("notifyEmails", None)
    return answer


def invitation_to_api(invitation: Invitation) -> dict[str, Any]:
    return invitation.to_api()


class CollaboratorsService:
    def __init__(
        self, offerers: AccountsService, accounts: AccountsRepository, team: TeamRepository, clock: Clock
    ) -> None:
        self._offerers = offerers
        self._accounts = accounts
        self._team = team
        self._clock = clock

    def declare_offerer(self, caller: Caller, person: Person, data: CreateOffererInput) -> tuple[int, dict[str, Any]]:
        """`POST /offerers`: 201 the new offerer (the caller its first member), or, for a SIREN already registered,
        202 a PENDING request to join it (which says nothing of the offerer but its SIREN)."""
        try:
            return 201, self._offerers.create_offerer(caller, data, person).to_api()
        except Conflict as taken:
            if taken.code != "SIREN_ALREADY_REGISTERED":
                raise
        request = self.request_attachment(person, data)
        return 202, {
            "siren": request.siren, "status": request.status.value, "requestedAt": isoformat(request.requested_at),
            "message": "Cette structure existe déjà : votre demande de rattachement est envoyée à ses membres.",
        }  # fmt: skip

    # -- a SIREN that exists: a request to join ---------------------------------------------------------------
    def request_attachment(self, person: Person, data: CreateOffererInput) -> AttachmentRequest:
        """PENDING until a member or an admin decides; asking again while it is pending answers the same request
        (written once: the members are emailed once); a member asking → 409."""
        siren = valid_siren(data.siren)
        offerer_id = self._team.offerer_of_siren(siren)
        offerer = self._accounts.get_offerer(offerer_id) if offerer_id else None
        if offerer is None:  # the SIREN's offerer is being created in this instant: the client tries again
            raise Conflict(f"The SIREN {siren} is being registered: try again.", code="SIREN_ALREADY_REGISTERED")
        members, _, _ = self._team.team(offerer.id)
        request = AttachmentRequest(
            user_id=person.user_id, email=person.email, first_name=person.first_name, last_name=person.last_name,
            offerer_id=offerer.id, offerer_name=offerer.name, siren=siren, status=AttachmentStatus.PENDING,
            requested_at=self._clock.now(), notify_emails=sorted({m.email for m in members if m.email}),
        )  # fmt: skip
        try:
            self._team.request_attachment(request)
        except TransactionCancelled as cancelled:
            if 1 in cancelled.failed_positions():
                raise _already_member("You are") from None
            if 0 not in cancelled.failed_positions():
                raise
            pending = self._team.attachment(offerer.id, person.user_id)
            if pending is None:
                raise
            return pending
        return request

    # -- invitations --------------------------------------------------------------------------------------------
    def invite(self, caller: Caller, offerer_id: str, email: str) -> Invitation:
        inviter = self._member_id(caller)
        offerer = self._accounts.get_offerer(offerer_id)
        if offerer is None:
            raise _not_a_member()
        now = self._clock.now()
        invitation = Invitation(
            id=new_id(), offerer_id=offerer_id, offerer_name=offerer.name, email=email.lower(),
            invited_by_email=caller.email, invited_at=now, expires_at=now + timedelta(days=INVITATION_VALIDITY_DAYS),
            status=InvitationStatus.PENDING,
        )  # fmt: skip
        try:
            self._team.invite(invitation, inviter, now)
        except TransactionCancelled as cancelled:
            failed = cancelled.failed_positions()
            if 3 in failed:
                raise _not_a_member() from None
            if 2 in failed:
                raise _already_member(f"{invitation.email} is") from None
            pending_id = self._team.pending_invitation_id(offerer_id, invitation.email) if 1 in failed else None
            pending = self._team.invitation(pending_id) if pending_id else None
            if pending is None:
                raise
            return pending  # the same invitation, still valid: nothing written, no second email
        return invitation

    def accept_invitation(self, caller: Caller, person: Person, invitation_id: str) -> Invitation:
        caller.require(PRO)
        for _ in range(2):  # once more when the person became a member while accepting
            invitation = self._team.invitation(invitation_id)
            if invitation is None:
                raise NotFound("No such invitation.", code="INVITATION_NOT_FOUND")
            if not caller.email or invitation.email != caller.email.lower():
                raise Forbidden("This invitation was sent to another email address.", code="NOT_INVITED")
            if invitation.status is InvitationStatus.ACCEPTED:
                if invitation.accepted_by != person.user_id:
                    raise Forbidden("This invitation was accepted by another account.", code="NOT_INVITED")
                return invitation  # accepting twice: the same answer
            now = self._clock.now()
            if now >= invitation.expires_at:
                raise Gone(
                    f"This invitation expired on {isoformat(invitation.expires_at)}: ask a member for a new one.",
                    code="INVITATION_EXPIRED",
                )
            member = TeamMember(**person.model_dump(), since=now)
            link = not self._team.is_member(person.user_id, invitation.offerer_id)
            try:
                self._team.accept_invitation(invitation, member, link=link)
            except TransactionCancelled as cancelled:
                if not set(cancelled.failed_positions()) & {0, 2}:
                    raise
                continue  # accepted or expired meanwhile, or already linked: read it again
            return invitation.model_copy(
                update={"status": InvitationStatus.ACCEPTED, "accepted_by": person.user_id, "accepted_at": now}
            )
        raise Conflict("The invitation changed while it was accepted: try again.", code="INVITATION_CONFLICT")

    # -- attachment requests: accept or refuse ------------------------------------------------------------------
    def decide(self, caller: Caller, offerer_id: str, user_id: str, accept: bool) -> AttachmentRequest:
        """A member of the offerer or an admin. Deciding again the same way answers the same; the other way is 409."""
        wanted = AttachmentStatus.ACCEPTED if accept else AttachmentStatus.REFUSED
        is_admin = ADMIN in caller.groups
        decider = None if is_admin else self._member_id(caller)
        by = f"ADMIN:{caller.user_id}" if is_admin else f"PRO:{decider}"
        for _ in range(2):
            request = self._team.attachment(offerer_id, user_id) if 0 < len(user_id) <= 128 else None
            if request is None:
                raise NotFound("No request to join this offerer from this user.", code="ATTACHMENT_NOT_FOUND")
            if request.status is wanted:
                return request
            if request.status is not AttachmentStatus.PENDING:
                raise Conflict(
                    f"This request was already {request.status.value.lower()}.", code="ATTACHMENT_ALREADY_DECIDED"
                )
            now = self._clock.now()
            already_member = self._team.is_member(user_id, offerer_id)  # e.g. joined by an invitation meanwhile
            if already_member and not accept:
                raise _already_member("The requester is")  # never email a refusal to a member
            link = accept and not already_member
            try:
                self._team.decide_attachment(request, wanted, by, now, decider, link=link)
            except TransactionCancelled as cancelled:
                failed = cancelled.failed_positions()
                if decider is not None and len(cancelled.reasons) - 1 in failed:
                    raise _not_a_member() from None
                if not failed:
                    raise
                continue  # decided meanwhile, or the requester joined by an invitation: read it again
            return request.model_copy(update={"status": wanted, "decided_at": now, "decided_by": by})
        raise Conflict("The request changed while it was decided: try again.", code="ATTACHMENT_CONFLICT")

    # -- the team -----------------------------------------------------------------------------------------------
    def team(self, caller: Caller, offerer_id: str) -> dict[str, Any]:
        self._member_id(caller)
        if not self._team.is_member(str(caller.user_id), offerer_id):
            raise _not_a_member()
        members, requests, invitations = self._team.team(offerer_id)
        member_ids = {member.user_id for member in members}
        requests = [r for r in requests if r.user_id not in member_ids]  # who joined by an invitation waits no more
        now = isoformat(self._clock.now())
        return {
            "members": [
                member.to_api() for member in sorted(members, key=lambda m: (m.since, m.email or "", m.user_id))
            ],
            "attachmentRequests": [request_to_api(r) for r in sorted(requests, key=lambda r: r.requested_at)],
            "invitations": [
                {
                    "id": item["invitationId"], "email": item["email"], "invitedAt": item["invitedAt"],
                    "expiresAt": item["expiresAt"], "expired": str(item["expiresAt"]) <= now,
                }
                for item in sorted(invitations, key=lambda i: str(i["invitedAt"]))
            ],
        }  # fmt: skip

    def remove(self, caller: Caller, offerer_id: str, user_id: str) -> None:
        """Never the last member (409 LAST_MEMBER, held by the count's condition in the same transaction)."""
        remover = self._member_id(caller)
        member = self._team.member(offerer_id, user_id) if 0 < len(user_id) <= 128 else None
        if member is None:
            raise NotFound("This user is not a member of this offerer.", code="MEMBER_NOT_FOUND")
        try:
            self._team.remove(offerer_id, member, remover)
        except TransactionCancelled as cancelled:
            failed = cancelled.failed_positions()
            if 2 in failed:
                raise Conflict(
                    "An offerer keeps at least one member: invite someone before leaving.", code="LAST_MEMBER"
                ) from None
            if 0 in failed:
                raise NotFound("This user is not a member of this offerer.", code="MEMBER_NOT_FOUND") from None
            if 3 in failed:
                raise _not_a_member() from None
            raise

    @staticmethod
    def _member_id(caller: Caller) -> str:
        caller.require(PRO)
        assert caller.user_id is not None
        return caller.user_id


def build_collaborators_service(offerers: AccountsService) -> CollaboratorsService:
    """As a Lambda instance uses it, beside the accounts service it built (which creates the offerers)."""
    from pass_culture import aws
    from pass_culture.clock import SystemClock
    from pass_culture.dynamo import Table
    from pass_culture.settings import get_settings

    table = Table(aws.dynamodb(), get_settings().table_name)
    return CollaboratorsService(offerers, AccountsRepository(table), TeamRepository(table), SystemClock())
