from collections import Counter

import pytest

from pass_culture.ids import (
    COUNTERMARK_ALPHABET,
    new_countermark,
    new_id,
    normalize_countermark,
    qr_payload,
)


def test_the_alphabet_has_30_symbols_without_look_alikes() -> None:
    assert len(COUNTERMARK_ALPHABET) == 30
    assert len(set(COUNTERMARK_ALPHABET)) == 30
    assert not set("0189IO") & set(COUNTERMARK_ALPHABET)
    assert set(COUNTERMARK_ALPHABET) == set("ABCDEFGHJKLMNPQRSTUVWXYZ234567")


def test_countermarks_are_six_symbols_of_the_alphabet_and_cover_it() -> None:
    drawn = [new_countermark() for _ in range(2000)]
    assert all(len(token) == 6 and set(token) <= set(COUNTERMARK_ALPHABET) for token in drawn)
    symbols = Counter("".join(drawn))
    assert set(symbols) == set(COUNTERMARK_ALPHABET)  # 12 000 draws: every symbol appears
    assert len(set(drawn)) > 1990  # 30^6 ≈ 729 M possibilities: collisions are rare


@pytest.mark.parametrize(("typed", "expected"), [("abcdef", "ABCDEF"), (" 2x7kqm ", "2X7KQM"), ("ABCDEF", "ABCDEF")])
def test_typed_countermarks_are_looked_up_case_insensitively(typed: str, expected: str) -> None:
    assert normalize_countermark(typed) == expected


@pytest.mark.parametrize("typed", ["ABCDE", "ABCDEFG", "ABCDE0", "ABCDE1", "ABCDEI", "ABCDEO", "ABC-EF", ""])
def test_impossible_countermarks_are_refused_before_any_lookup(typed: str) -> None:
    assert normalize_countermark(typed) is None


def test_qr_payload_follows_the_v3_format() -> None:
    assert qr_payload("ABCDEF") == "PASSCULTURE:v3;TOKEN:ABCDEF"


def test_ids_are_opaque_and_unique() -> None:
    ids = {new_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 32 for i in ids)
