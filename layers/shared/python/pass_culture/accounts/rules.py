"""Pure checks of the accounts context: identifiers (python-stdnum, schwifty) and venue rules."""

from __future__ import annotations

import re
import secrets

from stdnum.fr import siren as siren_number
from stdnum.fr import siret as siret_number

from pass_culture.errors import BadRequest, RuleRefused

API_KEY_PREFIX = "pck_"


def valid_siren(raw: str) -> str:
    compact = siren_number.compact(raw)
    if not siren_number.is_valid(compact):
        raise BadRequest(
            f"'{raw}' is not a valid SIREN (9 digits, Luhn).", code="INVALID_SIREN", details=[{"field": "siren"}]
        )
    return str(compact)


def valid_siret(raw: str, *, offerer_siren: str) -> str:
    compact = siret_number.compact(raw)
    if not siret_number.is_valid(compact):
        raise BadRequest(
            f"'{raw}' is not a valid SIRET (14 digits, Luhn).", code="INVALID_SIRET", details=[{"field": "siret"}]
        )
    if not compact.startswith(offerer_siren):
        raise RuleRefused(
            f"The SIRET {compact} is not an establishment of the offerer's SIREN {offerer_siren}.",
            code="SIRET_NOT_OF_OFFERER",
            details=[{"field": "siret"}],
        )
    return str(compact)


def valid_bank_details(iban: str, bic: str) -> tuple[str, str]:
    """(IBAN, BIC) in compact form; 400 naming the field when either is wrong (checksum, length, country)."""
    from schwifty import BIC, IBAN  # ~140 ms to import: only where bank details are checked
    from schwifty.exceptions import SchwiftyException

    try:
        checked_iban = IBAN(iban)
    except SchwiftyException as error:
        raise BadRequest(f"Invalid IBAN: {error}.", code="INVALID_IBAN", details=[{"field": "iban"}]) from error
    try:
        checked_bic = BIC(bic)
    except SchwiftyException as error:
        raise BadRequest(f"Invalid BIC: {error}.", code="INVALID_BIC", details=[{"field": "bic"}]) from error
    return str(checked_iban.compact), str(checked_bic.compact)


def mask_iban(iban: str) -> str:
    """Country, check digits and the last four characters: enough to recognise an account, not to use it."""
    compact = re.sub(r"\s", "", iban)
    return f"{compact[:4]}{'•' * max(0, len(compact) - 8)}{compact[-4:]}"


def new_api_key() -> str:
    """A 256-bit random secret; the prefix makes keys recognisable in logs and secret scanners."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)
