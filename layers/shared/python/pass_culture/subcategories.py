"""The subcategory table (domain.md "Offers and stocks"; seeds/002 for the libraries' part) and its flags.

This is the one place a subcategory's behaviour is decided: whether it is an event, can expire, can be booked as a
duo, counts against the digital cap, how it is reimbursed, and whether a free booking validates itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ReimbursementRule(StrEnum):
    BOOK = "BOOK"  # 100 % up to 20 000 € a year, then 95 %
    STANDARD = "STANDARD"  # 100 % / 95 % / 92 % / 90 % tiers
    NOT_REIMBURSED = "NOT_REIMBURSED"
    COLLECTIVE = "COLLECTIVE"  # collective bookings (school groups): 100 %, no yearly tiers; no subcategory's own


class Channel(StrEnum):
    """Where the offer is delivered: a URL (digital), a place (physical or event), or either."""

    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"
    ONLINE_OR_OFFLINE = "ONLINE_OR_OFFLINE"


@dataclass(frozen=True, slots=True)
class Subcategory:
    id: str
    label: str
    category_id: str
    is_event: bool
    can_expire: bool
    can_be_duo: bool
    is_digital_capped: bool
    reimbursement_rule: ReimbursementRule
    auto_validated_when_free: bool
    channel: Channel
    is_book: bool = False

    def to_api(self) -> dict[str, object]:
        return {
            "id": self.id,
            "label": self.label,
            "categoryId": self.category_id,
            "isEvent": self.is_event,
            "canExpire": self.can_expire,
            "canBeDuo": self.can_be_duo,
            "isDigitalCapped": self.is_digital_capped,
            "reimbursementRule": self.reimbursement_rule.value,
            "autoValidatedWhenFree": self.auto_validated_when_free,
        }


_R = ReimbursementRule
_C = Channel


def _thing(id_: str, label: str, category: str, **flags: object) -> Subcategory:
    values: dict[str, object] = {
        "is_event": False,
        "can_expire": True,
        "can_be_duo": False,
        "is_digital_capped": False,
        "reimbursement_rule": _R.STANDARD,
        "auto_validated_when_free": False,
        "channel": _C.OFFLINE,
    }
    values.update(flags)
    return Subcategory(id=id_, label=label, category_id=category, **values)  # type: ignore[arg-type]


def _event(id_: str, label: str, category: str, **flags: object) -> Subcategory:
    values: dict[str, object] = {"is_event": True, "can_expire": False, "can_be_duo": True}
    values.update(flags)
    return _thing(id_, label, category, **values)


SUBCATEGORIES: tuple[Subcategory, ...] = (
    # Books: the bookshops' core (seeds/000). Only paper books expire (10 days, see rules).
    _thing("LIVRE_PAPIER", "Livre papier", "LIVRE", reimbursement_rule=_R.BOOK, is_book=True),
    _thing(
        "LIVRE_NUMERIQUE",
        "Livre numérique, e-book",
        "LIVRE",
        can_expire=False,
        is_digital_capped=True,
        reimbursement_rule=_R.BOOK,
        channel=_C.ONLINE,
        is_book=True,
    ),
    # Subscriptions: free cards validate themselves 30 days after booking (seeds/002).
    _thing(
        "ABO_BIBLIOTHEQUE",
        "Abonnement (bibliothèques, médiathèques)",
        "LIVRE",
        can_expire=False,
        auto_validated_when_free=True,
    ),
    _thing("ABO_MEDIATHEQUE", "Abonnement médiathèque", "FILM", can_expire=False, auto_validated_when_free=True),
    _thing(
        "CARTE_MUSEE",
        "Abonnement musée, carte ou pass",
        "MUSEE",
        can_expire=False,
        auto_validated_when_free=True,
    ),
    _thing("SUPPORT_PHYSIQUE_FILM", "Support physique (DVD, Blu-ray...)", "FILM"),
    _thing("ESCAPE_GAME", "Escape game", "JEU", can_expire=False, can_be_duo=True),
    _thing(
        "VOD",
        "Vidéo à la demande",
        "FILM",
        can_expire=False,
        is_digital_capped=True,
        reimbursement_rule=_R.NOT_REIMBURSED,
        channel=_C.ONLINE,
    ),
    # Events: dated, bookable as a duo. Reading clubs are RENCONTRE (seeds/002).
    _event("CONFERENCE", "Conférence", "CONFERENCE_RENCONTRE"),
    _event("RENCONTRE", "Rencontre", "CONFERENCE_RENCONTRE"),
    _event("ATELIER_PRATIQUE_ART", "Atelier, stage de pratique artistique", "PRATIQUE_ART"),
    _event("VISITE", "Visite", "MUSEE"),
    _event("SEANCE_CINE", "Séance de cinéma", "CINEMA"),
    _event("CONCERT", "Concert", "MUSIQUE_LIVE"),
    _event("SPECTACLE_REPRESENTATION", "Spectacle, représentation", "SPECTACLE"),
)

BY_ID: dict[str, Subcategory] = {subcategory.id: subcategory for subcategory in SUBCATEGORIES}


def get_subcategory(subcategory_id: str) -> Subcategory | None:
    return BY_ID.get(subcategory_id)
