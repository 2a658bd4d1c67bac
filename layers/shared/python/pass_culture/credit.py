"""Credit rules (domain.md, "Beneficiaries and credit"). Pure: dates in, cents out.

| age at grant | credit | digital cap | expires |
| 18           | 300 €  | 100 €       | 24 months after the grant |
| 15 / 16 / 17 | 20 / 30 / 30 € | none | at the 18th birthday (00:00 Europe/Paris) |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from dateutil.relativedelta import relativedelta

from pass_culture.clock import paris_date, paris_midnight, require_aware
from pass_culture.errors import RuleRefused

CREDIT_CENTS_BY_AGE = {15: 20_00, 16: 30_00, 17: 30_00, 18: 300_00}
DIGITAL_CAP_CENTS_AT_18 = 100_00
VALIDITY_AT_18 = relativedelta(months=24)
ADULT_AGE = 18


@dataclass(frozen=True)
class Grant:
    initial_cents: int
    digital_cap_cents: int | None  # None: no separate cap on digital offers
    expires_at: datetime


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def birthday(birth_date: date, age: int) -> date:
    """The day someone turns `age` (29 February births have their birthday on 1 March in common years)."""
    try:
        return birth_date.replace(year=birth_date.year + age)
    except ValueError:
        return date(birth_date.year + age, 3, 1)


def grant_for(birth_date: date, granted_at: datetime) -> Grant:
    """The credit a young person born on `birth_date` gets when registered at `granted_at`."""
    today = paris_date(require_aware(granted_at))
    if birth_date > today:
        raise RuleRefused("The birth date is in the future.", code="INVALID_BIRTH_DATE")
    age = age_on(birth_date, today)
    if age not in CREDIT_CENTS_BY_AGE:
        raise RuleRefused(
            f"The pass Culture is for young people aged 15 to 18 (this person is {age}).",
            code="AGE_NOT_ELIGIBLE",
            details=[{"age": age}],
        )
    if age == ADULT_AGE:
        return Grant(CREDIT_CENTS_BY_AGE[age], DIGITAL_CAP_CENTS_AT_18, granted_at + VALIDITY_AT_18)
    return Grant(CREDIT_CENTS_BY_AGE[age], None, paris_midnight(birthday(birth_date, ADULT_AGE)))


@dataclass(frozen=True)
class Balance:
    remaining_cents: int
    digital_remaining_cents: int
    expired: bool


def balance(
    initial_cents: int, spent_cents: int, digital_cap_cents: int | None, digital_spent_cents: int, expires_at: datetime,
    now: datetime,
) -> Balance:  # fmt: skip
    """What can still be spent: nothing once expired; digital spending is bounded by both its cap and the rest."""
    if now >= expires_at:
        return Balance(0, 0, expired=True)
    remaining = max(0, initial_cents - spent_cents)
    if digital_cap_cents is None:
        return Balance(remaining, remaining, expired=False)
    return Balance(remaining, max(0, min(remaining, digital_cap_cents - digital_spent_cents)), expired=False)


def check_can_spend(left: Balance, amount_cents: int, *, digital_capped: bool) -> None:
    """Whether a booking of `amount_cents` fits the credit. Free offers fit even with nothing left (domain.md)."""
    from pass_culture.errors import Conflict

    if left.expired:
        raise RuleRefused("Your pass Culture credit has expired.", code="CREDIT_EXPIRED")
    if amount_cents == 0:
        return
    if amount_cents > left.remaining_cents:
        raise Conflict("Not enough credit left for this booking.", code="INSUFFICIENT_CREDIT")
    if digital_capped and amount_cents > left.digital_remaining_cents:
        raise Conflict("The digital offers' cap of your credit is reached.", code="DIGITAL_CAP_REACHED")
