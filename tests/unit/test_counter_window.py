"""The failed look-ups' sliding window (pass_culture.counter.window): never more than the limit in any 60 s, no burst
when a minute turns, and Retry-After exactly long enough."""

from __future__ import annotations

from bisect import bisect_left

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pass_culture.counter.window import FailureWindow

WINDOW = FailureWindow()  # the domain's figures: 10 in any 60 s, slots of 6 s
START = 1_795_000_000.0  # an instant in 2026


def simulate(window: FailureWindow, arrivals: list[float]) -> list[float]:
    """Feeds failed look-ups in time order, as the repository's conditional write would accept them."""
    counts: dict[int, int] = {}
    accepted: list[float] = []
    for at in arrivals:
        if window.allows(counts, at):
            counts[window.slot(at)] = counts.get(window.slot(at), 0) + 1
            accepted.append(at)
            for slot in window.stale(counts, at):  # the repository removes them with the same write
                del counts[slot]
    return accepted


def most_in_any_interval(times: list[float], seconds: float) -> int:
    """The most accepted failures any half-open interval [t, t + seconds) holds (one starts at each of them)."""
    return max((bisect_left(times, t + seconds) - i for i, t in enumerate(times)), default=0)


arrival_gaps = st.lists(
    st.one_of(st.just(0.0), st.floats(min_value=0, max_value=2), st.floats(min_value=0, max_value=90)),
    min_size=1,
    max_size=300,
)


@settings(max_examples=400, deadline=None)
@given(gaps=arrival_gaps, limit=st.integers(min_value=1, max_value=12), slot=st.sampled_from([1, 2, 3, 5, 6, 10]))
def test_never_more_than_the_limit_in_any_sixty_seconds(gaps: list[float], limit: int, slot: int) -> None:
    window = FailureWindow(limit=limit, seconds=60, slot_seconds=slot)
    arrivals, at = [], START
    for gap in gaps:
        at += gap
        arrivals.append(at)
    accepted = simulate(window, arrivals)
    assert most_in_any_interval(accepted, 60) <= limit


@settings(max_examples=300, deadline=None)
@given(gaps=arrival_gaps)
def test_retry_after_is_when_the_next_attempt_succeeds(gaps: list[float]) -> None:
    counts: dict[int, int] = {}
    at = START
    for gap in gaps:
        at += gap
        wait = WINDOW.retry_after(counts, at)
        assert wait >= 0
        assert WINDOW.allows(counts, at + wait)
        if wait > 0:
            assert not WINDOW.allows(counts, at + wait - 1)
            assert WINDOW.budget(counts, at) <= counts.get(WINDOW.slot(at), 0)  # what DynamoDB would refuse
            assert wait <= 60 + WINDOW.slot_seconds
        else:
            counts[WINDOW.slot(at)] = counts.get(WINDOW.slot(at), 0) + 1


def test_ten_at_once_then_nothing_for_a_minute() -> None:
    accepted = simulate(WINDOW, [START + 20] * 100)
    assert len(accepted) == 10
    counts = {WINDOW.slot(START + 20): 10}
    wait = WINDOW.retry_after(counts, START + 20)
    assert 60 < wait <= 66  # the failures leave the count with their slot, 60 to 66 s later
    assert not WINDOW.allows(counts, START + 20 + wait - 1)
    assert WINDOW.allows(counts, START + 20 + wait)


def test_no_burst_when_the_minute_turns() -> None:
    """The fixed-minute counter let 10 failures at :50 and 10 more at :00 (20 in 10 s): now the second burst gets
    only what left the window."""
    minute = (START // 60) * 60
    first = simulate(WINDOW, [minute + 50.0] * 10 + [minute + 60.0] * 10 + [minute + 70.0] * 10)
    assert len(first) == 10
    spread = [minute + 5.0] * 5 + [minute + 35.0] * 5 + [minute + 36.0]
    accepted = simulate(WINDOW, spread)
    assert len(accepted) == 10
    counts = {WINDOW.slot(minute + 5): 5, WINDOW.slot(minute + 35): 5}
    wait = WINDOW.retry_after(counts, minute + 36)
    # Right after Retry-After, only the 5 oldest have left the window: a burst gets 5, not 10.
    burst = simulate(WINDOW, [*spread, *[minute + 36 + wait] * 20])
    assert len(burst) - len(accepted) == 5


def test_a_refused_write_implies_a_full_current_slot() -> None:
    at = START + 3
    counts = {WINDOW.slot(at) - 2: 4}
    assert WINDOW.budget(counts, at) == 6
    filled = WINDOW.filled(counts, at)
    assert filled[WINDOW.slot(at)] == 6
    assert not WINDOW.allows(filled, at)
    assert WINDOW.allows(filled, at + WINDOW.retry_after(filled, at))


def test_stale_slots_and_expiry() -> None:
    at = START
    current = WINDOW.slot(at)
    counts = {current - 11: 1, current - 10: 2, current: 1}
    assert WINDOW.stale(counts, at) == [current - 11]  # slot current-10 still counts
    assert WINDOW.expiry(at) == (current + 11) * 6
    assert WINDOW.allows({current - 11: 10}, at)  # a stale slot no longer counts
    assert not WINDOW.allows({current - 10: 10}, at)


def test_the_window_must_be_whole_slots() -> None:
    with pytest.raises(ValueError):
        FailureWindow(limit=10, seconds=60, slot_seconds=7)
    with pytest.raises(ValueError):
        FailureWindow(limit=0)
