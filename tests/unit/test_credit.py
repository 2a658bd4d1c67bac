"""Credit rules, including a property test against a plain model of the table in domain.md."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pass_culture.clock import PARIS, paris_date
from pass_culture.credit import age_on, balance, birthday, grant_for
from pass_culture.errors import RuleRefused

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_eighteen_year_olds_get_300_euros_with_a_100_euro_digital_cap_for_24_months() -> None:
    grant = grant_for(date(2008, 5, 1), NOW)
    assert (grant.initial_cents, grant.digital_cap_cents) == (30000, 10000)
    assert grant.expires_at == datetime(2028, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("birth", "cents"), [(date(2011, 11, 23), 2000), (date(2010, 1, 1), 3000), (date(2009, 2, 1), 3000)]
)
def test_younger_people_get_their_amount_until_their_18th_birthday(birth: date, cents: int) -> None:
    grant = grant_for(birth, NOW)
    assert grant.initial_cents == cents
    assert grant.digital_cap_cents is None
    eighteenth = grant.expires_at.astimezone(PARIS)
    assert (eighteenth.date(), eighteenth.hour, eighteenth.minute) == (birthday(birth, 18), 0, 0)


def test_a_leap_day_birthday_falls_on_the_first_of_march() -> None:
    assert birthday(date(2008, 2, 29), 18) == date(2026, 3, 1)
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18


def test_the_age_is_counted_on_the_paris_day() -> None:
    late_evening = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # already the 23rd in Paris
    assert grant_for(date(2008, 11, 23), late_evening).initial_cents == 30000


def reference_credit(age: int) -> int | None:
    """The table of domain.md, written as plainly as possible."""
    return {15: 2000, 16: 3000, 17: 3000, 18: 30000}.get(age)


@given(birth=st.dates(min_value=date(1990, 1, 1), max_value=date(2026, 11, 23)), hours=st.integers(0, 23))
def test_grants_follow_the_table_for_any_birth_date(birth: date, hours: int) -> None:
    at = datetime(2026, 11, 23, hours, tzinfo=UTC)
    today = paris_date(at)
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    expected = reference_credit(age)
    if expected is None:
        with pytest.raises(RuleRefused):
            grant_for(birth, at)
        return
    grant = grant_for(birth, at)
    assert grant.initial_cents == expected
    assert grant.expires_at > at
    assert grant.expires_at <= at + timedelta(days=3 * 366 + 1)


@given(
    initial=st.sampled_from([2000, 3000, 30000]),
    spent=st.integers(0, 30000),
    cap=st.one_of(st.none(), st.just(10000)),
    digital_spent=st.integers(0, 10000),
    days_left=st.integers(-5, 700),
)
def test_balance_never_exceeds_what_is_left(
    initial: int, spent: int, cap: int | None, digital_spent: int, days_left: int
) -> None:
    spent = min(spent, initial)
    digital_spent = min(digital_spent, spent) if cap else 0
    left = balance(initial, spent, cap, digital_spent, NOW + timedelta(days=days_left), NOW)
    if days_left <= 0:
        assert (left.remaining_cents, left.digital_remaining_cents, left.expired) == (0, 0, True)
        return
    assert left.remaining_cents == initial - spent
    assert 0 <= left.digital_remaining_cents <= left.remaining_cents
    if cap is not None:
        assert left.digital_remaining_cents <= cap - digital_spent
