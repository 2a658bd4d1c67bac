import pytest

from pass_culture.accounts.identity import e164
from pass_culture.accounts.rules import mask_iban, new_api_key, valid_bank_details, valid_siren, valid_siret
from pass_culture.errors import BadRequest, RuleRefused
from pass_culture.money import euros, price_label


def test_siren_and_siret_are_checked_with_their_luhn_key() -> None:
    assert valid_siren("732 829 320") == "732829320"
    with pytest.raises(BadRequest):
        valid_siren("732829321")
    assert valid_siret("73282932000074", offerer_siren="732829320") == "73282932000074"
    with pytest.raises(BadRequest):
        valid_siret("73282932000075", offerer_siren="732829320")
    with pytest.raises(RuleRefused):
        valid_siret("73282932000074", offerer_siren="552100554")


def test_bank_details_are_checked_and_compacted() -> None:
    assert valid_bank_details("fr76 3000 6000 0112 3456 7890 189", "agrifrpp") == (
        "FR7630006000011234567890189",
        "AGRIFRPP",
    )
    with pytest.raises(BadRequest, match="IBAN"):
        valid_bank_details("FR7630006000011234567890188", "AGRIFRPP")
    with pytest.raises(BadRequest, match="BIC"):
        valid_bank_details("FR7630006000011234567890189", "AGRI")


def test_ibans_are_masked_but_recognisable() -> None:
    masked = mask_iban("FR76 3000 6000 0112 3456 7890 189")
    assert masked.startswith("FR76")
    assert masked.endswith("0189")
    assert "3000" not in masked


def test_api_keys_are_long_random_and_recognisable() -> None:
    keys = {new_api_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(k.startswith("pck_") and len(k) >= 40 and "." not in k for k in keys)


@pytest.mark.parametrize(
    ("typed", "cognito"), [("06 12 34 56 78", "+33612345678"), ("+33612345678", "+33612345678"), ("12", None)]
)
def test_phone_numbers_for_the_identity_provider(typed: str, cognito: str | None) -> None:
    assert e164(typed) == cognito


def test_money_is_shown_the_french_way() -> None:
    assert euros(1290) == "12,90\u00a0€"
    assert euros(2_000_000) == "20\u202f000,00\u00a0€"
    assert price_label(0) == "Gratuit"
