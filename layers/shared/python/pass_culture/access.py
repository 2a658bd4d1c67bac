"""Who may call each route: declared next to the route, checked before anything of the request is validated.

    @app.post("/offerers/<offererId>/venues", status_code=201)
    @allow(PRO, member_of=offerer_in_path(), errors=(409, 422))
    def create_venue(offererId: str, body: CreateVenueInput) -> ...

The order of the answers (architecture.md): 401 no or bad credentials → 403 wrong group → 403 not a member of the
offerer named in the path or query (whether that id exists or not) → 400 the request's shape → the rules' answers
(404, 409, 410, 422, 429). `pass_culture.http.ContractResolver` refuses to register a route without a declaration,
runs `authorize` before Powertools' validation, and derives each operation's security and error statuses in the
OpenAPI document from the same declaration. Use cases keep their own checks (a membership ConditionCheck inside the
write): this gate answers early and in order, it does not replace them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from pass_culture.errors import Forbidden, Unauthenticated

BENEFICIARY, PRO, ADMIN = "beneficiary", "pro", "admin"
TEACHER, INSTITUTION_HEAD = "teacher", "institution_head"  # act for an educational institution (collective offers)
GROUPS = (BENEFICIARY, PRO, ADMIN, TEACHER, INSTITUTION_HEAD)

F = TypeVar("F", bound=Callable[..., object])
ResourceKind = Literal["offerer", "venue", "offer", "stock", "payout", "collective_offer", "collective_booking"]
ACCESS_ATTRIBUTE = "__route_access__"
MAX_ID_LENGTH = 128  # ids are uuid hex (32), `<offerId>.<n>` or 6-letter countermarks: a longer one names nothing


@dataclass(frozen=True)
class Caller:
    """Who is calling: a Cognito user (with groups) or venue software holding an offerer API key."""

    user_id: str | None
    email: str | None
    groups: frozenset[str]
    api_key_offerer_id: str | None = None
    api_key_id: str | None = None

    @property
    def principal(self) -> str:
        """Who acts, as recorded (validation author): `API_KEY:<id>` or `PRO:<sub>`."""
        return f"API_KEY:{self.api_key_id}" if self.api_key_offerer_id else f"PRO:{self.user_id}"

    def require(self, *groups: str) -> Caller:
        if not self.groups.intersection(groups):
            raise Forbidden("This route is not open to your account.", code="FORBIDDEN_GROUP")
        return self

    def require_pro_or_api_key(self) -> Caller:
        """The countermark API and the stock push: a pro's token, or venue software holding an offerer API key."""
        if self.api_key_offerer_id is not None:
            return self
        return self.require(PRO)


@dataclass(frozen=True)
class OffererIn:
    """Where a route names the offerer it acts on: the id of the offerer itself, or of one of its venues, offers or
    stocks, in a path or query parameter."""

    parameter: str
    kind: ResourceKind
    source: Literal["path", "query"] = "path"


def offerer_in_path(parameter: str = "offererId") -> OffererIn:
    return OffererIn(parameter, "offerer")


def offerer_in_query(parameter: str = "offererId") -> OffererIn:
    return OffererIn(parameter, "offerer", "query")


def venue_in_path(parameter: str = "venueId") -> OffererIn:
    return OffererIn(parameter, "venue")


def offer_in_path(parameter: str = "offerId") -> OffererIn:
    return OffererIn(parameter, "offer")


def stock_in_path(parameter: str = "stockId") -> OffererIn:
    return OffererIn(parameter, "stock")


def collective_offer_in_path(parameter: str = "collectiveOfferId") -> OffererIn:
    return OffererIn(parameter, "collective_offer")


def collective_booking_in_path(parameter: str = "collectiveBookingId") -> OffererIn:
    return OffererIn(parameter, "collective_booking")


def payout_in_path(parameter: str = "payoutId") -> OffererIn:
    return OffererIn(parameter, "payout")  # a payout's id names its offerer: nothing is read


@dataclass(frozen=True)
class Access:
    """A route's declaration: the groups let in (none: public), whether an offerer API key is let in, the offerer a
    pro or key must belong to, the rule errors the route answers besides those derived here, and the media type of
    a body that is not JSON."""

    groups: frozenset[str] = frozenset()
    api_key: bool = False
    member_of: OffererIn | None = None
    errors: tuple[int, ...] = ()
    raw_body: str | None = None

    @property
    def is_public(self) -> bool:
        return not self.groups and not self.api_key

    def statuses(self, *, has_input: bool, has_body: bool, has_path_ids: bool) -> list[int]:
        """Every error status the route can answer: the declared ones and those the gate and validation give."""
        found: set[int] = set(self.errors)
        if not self.is_public:
            found |= {401, 403}
        if has_path_ids:
            found.add(404)  # an id that names nothing (or, behind membership, 403)
        if has_input or has_body or self.raw_body:
            found.add(400)
        if has_body or self.raw_body:
            found.add(415)
        return sorted(found)


def allow(
    *groups: str,
    api_key: bool = False,
    member_of: OffererIn | None = None,
    errors: tuple[int, ...] = (),
    raw_body: str | None = None,
) -> Callable[[F], F]:
    """Declares who may call the route below it. `allow()` with no group is a public route."""
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise ValueError(f"unknown groups: {sorted(unknown)}")
    if member_of is not None and not ({PRO} & set(groups) or api_key):
        raise ValueError("membership applies to pros and API keys")
    access = Access(frozenset(groups), api_key, member_of, tuple(errors), raw_body)

    def declare(func: F) -> F:
        setattr(func, ACCESS_ATTRIBUTE, access)
        return func

    return declare


def access_of(func: Callable[..., object]) -> Access | None:
    found = getattr(func, ACCESS_ATTRIBUTE, None)
    return found if isinstance(found, Access) else None


class OffererDirectory(Protocol):
    """What the gate reads: which offerer owns a venue, an offer or a stock, and who its members are."""

    def offerer_of(self, kind: ResourceKind, resource_id: str) -> str | None: ...

    def is_member(self, user_id: str, offerer_id: str) -> bool: ...


NOT_A_MEMBER = "You are not a member of this offerer."


def authorize(
    access: Access,
    caller: Caller | None,
    path: Mapping[str, str],
    query: Mapping[str, Sequence[str]],
    directory: Callable[[], OffererDirectory],
) -> None:
    """Raises 401 or 403 as the declaration says; returns when the caller may go on to validation. A query parameter
    given twice names two offerers: the caller must belong to both (the handler reads one of them)."""
    if access.is_public:
        return
    if caller is None:
        raise Unauthenticated("Authentication required.")
    if caller.api_key_offerer_id is not None:
        if not access.api_key:
            raise Forbidden("This route does not take an API key.", code="FORBIDDEN_GROUP")
    elif not caller.groups & access.groups:
        raise Forbidden("This route is not open to your account.", code="FORBIDDEN_GROUP")
    named = access.member_of
    if named is None or (ADMIN in access.groups and ADMIN in caller.groups):
        return  # staff act on any offerer where the route lets them in
    if caller.api_key_offerer_id is None and PRO not in caller.groups:
        return  # a route open to pros and another group (an institution's head): the use case checks the others
    named_ids = [path[named.parameter]] if named.source == "path" else list(query.get(named.parameter) or [])
    for resource_id in named_ids:  # none: an optional filter left out, the use case picks among the caller's own
        _require_member(caller, named.kind, resource_id, directory)


def _require_member(
    caller: Caller, kind: ResourceKind, resource_id: str, directory: Callable[[], OffererDirectory]
) -> None:
    if kind == "payout":
        from pass_culture.payouts.models import parse_payout_id

        parsed = parse_payout_id(resource_id)
        offerer_id: str | None = parsed[0] if parsed else None
    else:
        offerer_id = resource_id if kind == "offerer" else directory().offerer_of(kind, resource_id)
    if offerer_id is None:
        raise Forbidden(NOT_A_MEMBER, code="NOT_OFFERER_MEMBER")  # the same answer whether the id exists or not
    if caller.api_key_offerer_id is not None:
        if caller.api_key_offerer_id != offerer_id:
            raise Forbidden("This API key belongs to another offerer.", code="NOT_OFFERER_MEMBER")
        return
    if caller.user_id is None or not directory().is_member(caller.user_id, offerer_id):
        raise Forbidden(NOT_A_MEMBER, code="NOT_OFFERER_MEMBER")
