"""The peak simulation of docs/scale.md (infra/bench/peak_simulation.py): a 10 000-place event opening at 20:00, on
one stock item and on a sharded stock. Pure and seeded: these figures are the model's, run after run."""

from __future__ import annotations

import random

import pytest

from infra.bench.peak_simulation import (
    HEADROOM,
    INDEX_UNITS,
    OFFER_CHECK_UNITS,
    PARTITION_UNITS,
    PLACES,
    SHARD_CANDIDATES,
    STOCK_UNITS,
    Crowd,
    Design,
    Platform,
    Result,
    choose_shards,
    first_requests,
    main,
    simulate,
    split_places,
    spread,
)

AS_THE_CODE_STANDS = Design("A", 1, STOCK_UNITS + OFFER_CHECK_UNITS, INDEX_UNITS)
ONE_ITEM = Design("B", 1, STOCK_UNITS, INDEX_UNITS)
SHARDS_ONLY = Design("C", 8, STOCK_UNITS, INDEX_UNITS)
# A smaller sale at the same rates (1 500 first requests a second at the opening): fast enough for many runs.
SMALL_PLACES = 2_000
SMALL_CROWD = Crowd(people=10_000, ready_window_s=2)


def small(design: Design, seed: int = 1, platform: Platform | None = None) -> Result:
    return simulate(design, SMALL_PLACES, SMALL_CROWD, platform=platform, seed=seed)


def test_one_stock_item_is_throttled_from_the_first_second_of_the_modelled_peak() -> None:
    result = simulate(ONE_ITEM)  # the report's sale: 10 000 places, 50 000 people, 1 000 requests/s reach DynamoDB

    opening = result.seconds[0]
    assert opening.asked_units[0] == 2 * PARTITION_UNITS  # 1 000 transactions x 2 units, against 1 000
    assert opening.booked == PARTITION_UNITS // STOCK_UNITS == 500
    assert opening.throttled == 500
    assert all(s.booked <= 500 for s in result.seconds)
    assert result.booked == PLACES
    assert result.sold_out_at is not None and result.sold_out_at >= PLACES // 500 - 1
    assert result.throttled > PLACES // 2
    assert result.gave_up > 0  # refused five times in a row: they stop trying


def test_as_the_code_stands_the_offer_check_cuts_the_item_to_a_third() -> None:
    today, moved = small(AS_THE_CODE_STANDS), small(ONE_ITEM)

    assert max(s.booked for s in today.seconds) == PARTITION_UNITS // (STOCK_UNITS + OFFER_CHECK_UNITS) == 166
    assert today.sold_out_at is not None and moved.sold_out_at is not None
    assert today.sold_out_at > 2 * moved.sold_out_at
    assert today.throttled > 3 * moved.throttled


def test_sharded_stock_stays_under_the_partition_limit_at_the_modelled_peak() -> None:
    result = simulate(spread(8))

    assert result.throttled == 0
    assert result.peak_asked_units <= HEADROOM * PARTITION_UNITS
    assert result.booked == PLACES
    assert result.sold_out_at is not None and result.sold_out_at < 12  # 1 000 bookings a second: what reaches it


def test_shards_alone_move_the_throttling_to_the_event_s_index_partitions() -> None:
    result = small(SHARDS_ONLY)

    assert result.peak_asked_units < PARTITION_UNITS  # no shard is full...
    assert result.peak_shared_units > PARTITION_UNITS  # ...the index partitions every booking writes are
    assert result.throttled > 0
    assert all(s.booked <= PARTITION_UNITS // INDEX_UNITS for s in result.seconds)


@pytest.mark.parametrize(
    ("design", "places", "seed"),
    [
        (AS_THE_CODE_STANDS, SMALL_PLACES, 1),
        (ONE_ITEM, SMALL_PLACES, 2),
        (SHARDS_ONLY, SMALL_PLACES, 3),
        (spread(2), SMALL_PLACES, 4),
        (spread(7), 997, 5),  # places that do not divide evenly
        (spread(32), 40, 6),  # more shards than places a shard could hold, most of them emptied at once
        (Design("one try", 8, STOCK_UNITS, 0, max_tries=1), SMALL_PLACES, 7),
    ],
)
def test_never_oversells_nor_writes_a_partition_past_its_limit(design: Design, places: int, seed: int) -> None:
    result = simulate(design, places, SMALL_CROWD, seed=seed)

    assert result.booked <= places
    assert min(result.remaining) >= 0
    assert result.booked + sum(result.remaining) == places
    assert result.peak_written_units <= PARTITION_UNITS
    assert all(s.shared_written <= PARTITION_UNITS for s in result.seconds)
    assert result.booked == places  # five times more people than places: every place finds someone


def test_sharded_booking_finds_the_last_places_by_falling_back_to_another_shard() -> None:
    with_fallback = small(spread(8))
    without = small(Design("one try", 8, STOCK_UNITS, 0, max_tries=1))

    assert with_fallback.booked == SMALL_PLACES and with_fallback.remaining == [0] * 8
    assert with_fallback.last_places_via_fallback(100) > 0  # the last places sat on shards others had just emptied
    assert without.via_fallback == 0
    assert without.busy > with_fallback.busy  # without it, a request that picks an emptied shard answers 503


def test_same_seed_same_sale_and_another_seed_another_crowd() -> None:
    first, again, other = small(spread(4), seed=11), small(spread(4), seed=11), small(spread(4), seed=12)

    assert first.seconds == again.seconds and first.fallbacks == again.fallbacks
    assert first.seconds != other.seconds


def test_the_crowd_comes_mostly_at_the_opening_and_never_after_the_horizon() -> None:
    crowd = Crowd(people=20_000, ready_share=0.3, ready_window_s=10, mean_delay_s=120.0, horizon_s=600)
    starts = first_requests(crowd, random.Random(3))

    assert len(starts) <= crowd.people
    assert all(0 <= t < crowd.horizon_s for t in starts)
    ready = sum(t < crowd.ready_window_s for t in starts)
    assert 0.3 * crowd.people < ready < 0.4 * crowd.people  # the ready ones, and the first early others


def test_places_are_spread_evenly_over_the_shards() -> None:
    assert split_places(10_000, 8) == [1_250] * 8
    assert split_places(997, 7) == [143, 143, 143, 142, 142, 142, 142]
    assert sum(split_places(40, 32)) == 40
    with pytest.raises(ValueError):
        split_places(10, 0)


def test_the_chosen_n_is_the_fewest_shards_that_hold_the_rule() -> None:
    seeds = (1, 2)
    chosen = choose_shards(SMALL_PLACES, SMALL_CROWD, seeds=seeds)

    def holds(shards: int) -> bool:
        results = [simulate(spread(shards), SMALL_PLACES, SMALL_CROWD, seed=seed) for seed in seeds]
        return all(r.throttled == 0 and r.peak_asked_units <= HEADROOM * PARTITION_UNITS for r in results)

    assert chosen > 1 and holds(chosen)
    assert not holds(SHARD_CANDIDATES[SHARD_CANDIDATES.index(chosen) - 1])
    with pytest.raises(ValueError):
        choose_shards(SMALL_PLACES, SMALL_CROWD, seeds=seeds, candidates=(1,))


def test_the_report_prints_both_tables_and_the_chosen_n(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--places", "500", "--people", "2500", "--rows", "3"]) == 0

    out = capsys.readouterr().out
    assert "A one item + the offer's check" in out and "B one item, as the code stands" in out and "D " in out
    assert "\n  2 " in out and "\n  3 " not in out  # three seconds shown one by one
    assert "N = " in out
