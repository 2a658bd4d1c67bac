from pass_culture.subcategories import BY_ID, SUBCATEGORIES, Channel, ReimbursementRule, get_subcategory

REQUIRED = {
    "LIVRE_PAPIER", "ABO_BIBLIOTHEQUE", "ABO_MEDIATHEQUE", "CONFERENCE", "RENCONTRE", "ATELIER_PRATIQUE_ART", "VISITE",
    "SEANCE_CINE", "ESCAPE_GAME", "CARTE_MUSEE", "LIVRE_NUMERIQUE", "SUPPORT_PHYSIQUE_FILM", "CONCERT",
    "SPECTACLE_REPRESENTATION", "VOD",
}  # fmt: skip


def test_every_subcategory_of_the_domain_rules_exists_once() -> None:
    assert set(BY_ID) >= REQUIRED
    assert len(BY_ID) == len(SUBCATEGORIES)


def test_the_libraries_table_of_seeds_002() -> None:
    for event in ("CONFERENCE", "RENCONTRE", "ATELIER_PRATIQUE_ART", "VISITE", "SEANCE_CINE"):
        assert BY_ID[event].is_event, event
    for thing in ("ABO_BIBLIOTHEQUE", "ABO_MEDIATHEQUE", "ESCAPE_GAME"):
        assert not BY_ID[thing].is_event, thing
        assert BY_ID[thing].reimbursement_rule is not ReimbursementRule.NOT_REIMBURSED


def test_free_subscription_cards_validate_themselves() -> None:
    auto = {s.id for s in SUBCATEGORIES if s.auto_validated_when_free}
    assert auto == {"ABO_BIBLIOTHEQUE", "ABO_MEDIATHEQUE", "CARTE_MUSEE"}


def test_books_are_reimbursed_by_the_book_rule_and_vod_not_at_all() -> None:
    assert BY_ID["LIVRE_PAPIER"].reimbursement_rule is ReimbursementRule.BOOK
    assert BY_ID["LIVRE_PAPIER"].can_expire and BY_ID["LIVRE_PAPIER"].is_book
    assert BY_ID["VOD"].reimbursement_rule is ReimbursementRule.NOT_REIMBURSED


def test_digital_capped_subcategories_are_online() -> None:
    for subcategory in SUBCATEGORIES:
        if subcategory.is_digital_capped:
            assert subcategory.channel is Channel.ONLINE, subcategory.id
        if subcategory.is_event:
            assert not subcategory.can_expire, subcategory.id


def test_api_shape() -> None:
    subcategory = get_subcategory("SEANCE_CINE")
    assert subcategory is not None
    assert subcategory.to_api() == {
        "id": "SEANCE_CINE", "label": "Séance de cinéma", "categoryId": "CINEMA", "isEvent": True,
        "canExpire": False, "canBeDuo": True, "isDigitalCapped": False, "reimbursementRule": "STANDARD",
        "autoValidatedWhenFree": False,
    }  # fmt: skip
    assert get_subcategory("NOPE") is None
