"""Past one machine, by simulation (docs/scale.md): a 10 000-place event opens at 20:00 and a crowd of young people
tries to book it. Pure Python, standard library only, deterministic for a seed; nothing here touches AWS or moto.

The model, second by second:
- a seeded crowd (`Crowd`): some are on the offer's page at 20:00 and send their first request in the first seconds,
  the others come later (exponential delays); a refused request (503 throttled, 429 at the API) is sent again after
  Retry-After plus a little, a few times at most (`Client`);
- at most `Platform.admitted_per_s` booking requests a second reach DynamoDB (the API stage's throttle, the booking
  function's reserved concurrency); the rest are refused at the API (429) and retried;
- each request reads the stock (it sees the stock as it was at the start of its tenth of a second: a read lags its
  write by up to 0.1 s), then sends the booking transaction (`BookingsRepository.book` in
  layers/shared/python/pass_culture/bookings/repository.py). The transaction costs `Design.stock_units` write units
  on its stock's partition and `Design.shared_units` on each partition every booking of the event shares (the
  offerer's `PROFILE`, checked; the booking's index entries in GSI3 `DUE#AUTO_VALIDATE#<day>`, GSI4
  `OFFERER#<id>#BOOKINGS` and GSI5 `OFFERER#<id>#CONFIRMED`: 2 units each, so one budget stands for them all).
  A partition takes `Platform.partition_units` write units a second; a write that finds its partition full is
  throttled (nothing written, nothing spent); a full index partition throttles the table's write too (GSI
  back-pressure);
- sharded stock: the quantity is split across `Design.shards` items of their own partition keys; a request tries
  the shards its read saw with places, in a random order, falling back to the next one when a shard is full
  (throttled) or was emptied since the read (its condition fails: the units are spent, nothing is booked), up to
  `Design.max_tries` writes; then it answers 503 (retry) or, when every shard it tried was empty, "sold out".

No oversell by construction (each shard's places are only taken while it has some): the tests hold it anyway.

    python -m infra.bench.peak_simulation                        # the report pasted in docs/scale.md
    python -m infra.bench.peak_simulation --seed 7 --people 80000 --admitted 0     # another crowd, no API cap
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from infra.bench.report import summary_line

PARTITION_UNITS = 1_000  # write units one partition takes a second (DynamoDB's per-partition limit)
# Write units a booking costs, from the sizes of the items the code writes (docs/scale.md measures them):
STOCK_UNITS = 2  # the stock Update: a 328-byte item, in a transaction (2 units per KB)
OFFER_CHECK_UNITS = 4  # the offer's ConditionCheck, same partition key as the stock: 1.4 KB (2 KB), counted as a write
INDEX_UNITS = 2  # the booking's entry (1.5 KB: 2 KB) in each index partition the event's bookings share; the
# offerer's check (278 bytes, in the transaction: 2) costs its partition the same
TICKS = 10  # a read sees the stock as it was at the start of its tenth of a second: up to 0.1 s before its write
PLACES = 10_000
SEED = 2026
HEADROOM = 0.5  # the chosen N keeps each shard's partition at or below this share of its limit, at the peak
SHARD_CANDIDATES = (1, 2, 4, 8, 16, 32)


@dataclass(frozen=True)
class Crowd:
    """Who tries to book and when: `people` in all; `ready_share` of them are on the page at 20:00 and send their
    first request within `ready_window_s` (uniformly); the others come later, `mean_delay_s` on average
    (exponentially); nobody starts after `horizon_s`."""

    people: int = 50_000
    ready_share: float = 0.3
    ready_window_s: int = 10
    mean_delay_s: float = 120.0
    horizon_s: int = 600


@dataclass(frozen=True)
class Client:
    """What the app does when refused (503, 429): sends the request again `retry_after_s` later (drawn in that range:
    Retry-After is 1 s, plus the app's jitter), at most `max_requests` requests in all, then gives up."""

    max_requests: int = 5
    retry_after_s: tuple[int, int] = (1, 3)


@dataclass(frozen=True)
class Platform:
    partition_units: int = PARTITION_UNITS
    admitted_per_s: int | None = 1_000  # booking requests a second that reach DynamoDB; None: every one


@dataclass(frozen=True)
class Design:
    name: str
    shards: int = 1
    stock_units: int = STOCK_UNITS  # units a booking costs on its stock's (shard's) partition
    shared_units: int = INDEX_UNITS  # units a booking costs on each partition all the event's bookings share; 0: none
    max_tries: int = 3  # writes one request makes (one shard each) before answering 503


class Answer(Enum):
    """What a booking request answers."""

    BOOKED = "booked"
    SOLD_OUT = "sold out"
    BUSY = "503"


class _Write(Enum):
    """What one booking transaction met."""

    BOOKED = "booked"
    SHARD_FULL = "throttled: the shard's partition is full"
    SHARED_FULL = "throttled: a shared index partition is full"
    EMPTY = "condition failed: no place left on the shard"


@dataclass
class Second:
    """What happened in one second (t = 0 is 20:00:00)."""

    t: int
    shards: int
    arrivals: int = 0  # first requests
    requests: int = 0  # first requests and retries
    refused_at_api: int = 0  # 429: beyond what reaches DynamoDB
    writes: int = 0  # booking transactions sent
    throttled: int = 0  # of which refused for capacity (nothing written)
    lost_race: int = 0  # of which failed their stock condition (the shard was emptied since the read)
    booked: int = 0
    via_fallback: int = 0  # bookings made on another shard than the first one tried
    busy: int = 0  # requests answered 503
    sold_out: int = 0  # requests answered "sold out"
    asked_units: list[int] = field(default_factory=list)  # per shard: units the writes asked of its partition
    written_units: list[int] = field(default_factory=list)  # per shard: units its partition took
    shared_asked: int = 0  # units asked of each shared partition
    shared_written: int = 0

    def __post_init__(self) -> None:
        self.asked_units = self.asked_units or [0] * self.shards
        self.written_units = self.written_units or [0] * self.shards


@dataclass
class Result:
    design: Design
    places: int
    seconds: list[Second]
    remaining: list[int]  # places left in each shard at the end
    fallbacks: list[bool]  # for each booking, in order: made through a fallback?
    gave_up: int  # people who stopped after `Client.max_requests` refused requests

    @property
    def booked(self) -> int:
        return sum(s.booked for s in self.seconds)

    @property
    def sold_out_at(self) -> int | None:
        """The second in which the last place was booked (None: places left)."""
        total = 0
        for second in self.seconds:
            total += second.booked
            if total >= self.places:
                return second.t
        return None

    @property
    def throttled(self) -> int:
        return sum(s.throttled for s in self.seconds)

    @property
    def busy(self) -> int:
        return sum(s.busy for s in self.seconds)

    @property
    def refused_at_api(self) -> int:
        return sum(s.refused_at_api for s in self.seconds)

    @property
    def lost_races(self) -> int:
        return sum(s.lost_race for s in self.seconds)

    @property
    def via_fallback(self) -> int:
        return sum(s.via_fallback for s in self.seconds)

    @property
    def peak_asked_units(self) -> int:
        """The most units one stock partition was asked for in one second (its demand, against the limit)."""
        return max((max(s.asked_units) for s in self.seconds), default=0)

    @property
    def peak_written_units(self) -> int:
        return max((max(s.written_units) for s in self.seconds), default=0)

    @property
    def peak_shared_units(self) -> int:
        return max((s.shared_asked for s in self.seconds), default=0)

    def last_places_via_fallback(self, count: int) -> int:
        """Of the last `count` bookings, how many were found on a second (or third) shard."""
        return sum(self.fallbacks[-count:]) if count > 0 else 0


def first_requests(crowd: Crowd, rng: random.Random) -> list[int]:
    """The second (from 20:00:00) of each person's first request; people who would start after the horizon don't."""
    seconds = []
    for _ in range(crowd.people):
        if rng.random() < crowd.ready_share:
            t = rng.randrange(crowd.ready_window_s)
        else:
            t = int(rng.expovariate(1 / crowd.mean_delay_s))
        if t < crowd.horizon_s:
            seconds.append(t)
    return seconds


def split_places(places: int, shards: int) -> list[int]:
    """The quantity spread over the shards, as evenly as integers allow."""
    if shards < 1 or places < 0:
        raise ValueError("shards >= 1 and places >= 0")
    share, left = divmod(places, shards)
    return [share + (1 if k < left else 0) for k in range(shards)]


class _Budget:
    """Write units still free this second: per stock partition, and on the shared (index) partitions."""

    def __init__(self, design: Design, platform: Platform) -> None:
        self.shard = [platform.partition_units] * design.shards
        self.shared = platform.partition_units


class _Sale:
    def __init__(self, design: Design, places: int, client: Client, platform: Platform, rng: random.Random) -> None:
        if design.max_tries < 1:
            raise ValueError("a request makes at least one write")
        self.design, self.client, self.platform, self.rng = design, client, platform, rng
        self.places = places
        self.remaining = split_places(places, design.shards)
        self.pending: defaultdict[int, list[int]] = defaultdict(list)  # second -> people who send a request then
        self.made: Counter[int] = Counter()  # requests each person sent
        self.fallbacks: list[bool] = []
        self.gave_up = 0

    def run(self, starts: Sequence[int]) -> Result:
        for person, t in enumerate(starts):
            self.pending[t].append(person)
        arrivals = Counter(starts)
        seconds = []
        t = 0
        while self.pending:
            seconds.append(self._second(t, self.pending.pop(t, []), arrivals[t]))
            t += 1
        return Result(self.design, self.places, seconds, self.remaining, self.fallbacks, self.gave_up)

    def _second(self, t: int, people: list[int], arrivals: int) -> Second:
        second = Second(t, self.design.shards, arrivals=arrivals, requests=len(people))
        self.rng.shuffle(people)
        self.made.update(people)
        cap = self.platform.admitted_per_s
        admitted, refused = (people, []) if cap is None else (people[:cap], people[cap:])
        second.refused_at_api = len(refused)
        for person in refused:
            self._retry(person, t)
        budget = _Budget(self.design, self.platform)
        per_tick = -(-len(admitted) // TICKS)  # requests spread evenly over the second
        seen: list[int] = []
        for position, person in enumerate(admitted):
            if position % per_tick == 0:  # what the reads of this tenth of a second see: the shards with places
                seen = [k for k, left in enumerate(self.remaining) if left > 0]
            answer = self._request(seen, budget, second)
            if answer is Answer.BUSY:
                second.busy += 1
                self._retry(person, t)
            elif answer is Answer.SOLD_OUT:
                second.sold_out += 1
        return second

    def _request(self, seen: list[int], budget: _Budget, second: Second) -> Answer:
        """One booking request: the shards its read saw with places, in a random order, one write each."""
        if not seen:
            return Answer.SOLD_OUT  # refused on the read: no write
        order = self.rng.sample(seen, len(seen)) if len(seen) > 1 else seen
        empty = 0
        for k in order[: self.design.max_tries]:
            outcome = self._write(k, budget, second)
            if outcome is _Write.BOOKED:
                self.fallbacks.append(k != order[0])
                second.via_fallback += k != order[0]
                return Answer.BOOKED
            if outcome is _Write.SHARED_FULL:
                return Answer.BUSY  # an index partition is full: another shard would not help
            empty += outcome is _Write.EMPTY
        return Answer.SOLD_OUT if empty == len(order) else Answer.BUSY

    def _write(self, k: int, budget: _Budget, second: Second) -> _Write:
        """One booking transaction on shard k."""
        units, shared = self.design.stock_units, self.design.shared_units
        second.writes += 1
        second.asked_units[k] += units
        if budget.shard[k] < units:
            second.throttled += 1
            return _Write.SHARD_FULL
        if self.remaining[k] == 0:  # its condition fails: refused, its units spent
            budget.shard[k] -= units
            second.written_units[k] += units
            second.lost_race += 1
            return _Write.EMPTY
        second.shared_asked += shared
        if budget.shared < shared:
            second.throttled += 1
            return _Write.SHARED_FULL
        budget.shard[k] -= units
        budget.shared -= shared
        second.written_units[k] += units
        second.shared_written += shared
        self.remaining[k] -= 1
        second.booked += 1
        return _Write.BOOKED

    def _retry(self, person: int, t: int) -> None:
        if self.made[person] >= self.client.max_requests:
            self.gave_up += 1
            return
        low, high = self.client.retry_after_s
        self.pending[t + self.rng.randint(low, high)].append(person)


def simulate(
    design: Design,
    places: int = PLACES,
    crowd: Crowd | None = None,
    client: Client | None = None,
    platform: Platform | None = None,
    seed: int = SEED,
) -> Result:
    """One sale, second by second. The same seed gives the same crowd to every design."""
    starts = first_requests(crowd or Crowd(), random.Random(seed))  # noqa: S311 - a reproducible model, not a secret
    run = random.Random(seed + 1)  # noqa: S311 - idem
    sale = _Sale(design, places, client or Client(), platform or Platform(), run)
    return sale.run(starts)


def spread(shards: int) -> Design:
    """The sharded stock with the event's index keys spread too (and the offer's and offerer's checks off the
    transaction): only the shards' partitions are hot."""
    return Design(f"{shards} shards, index keys spread", shards, STOCK_UNITS, 0)


def choose_shards(
    places: int = PLACES,
    crowd: Crowd | None = None,
    client: Client | None = None,
    platform: Platform | None = None,
    seeds: Sequence[int] = (SEED, SEED + 10, SEED + 20),
    candidates: Sequence[int] = SHARD_CANDIDATES,
    headroom: float = HEADROOM,
) -> int:
    """The fewest shards that throttle nothing and keep every shard's partition at or below `headroom` of its limit
    in the peak second, for every seed."""
    limit = (platform or Platform()).partition_units * headroom
    for shards in candidates:
        results = [simulate(spread(shards), places, crowd, client, platform, seed) for seed in seeds]
        if all(r.throttled == 0 and r.peak_asked_units <= limit for r in results):
            return shards
    raise ValueError(f"none of {list(candidates)} shards keeps the partitions under {limit:.0f} units/s")


# -- the report ----------------------------------------------------------------------------------------------------
def designs(shards: int) -> list[Design]:
    """A: the code before issue #15 (the offer's check shared the stock's partition). B: the offer's check moved off it
    (the stock carries `offerActive`): the code as it stands.
    C: B with the stock in shards; the offerer's check and the index keys as today. D: shards, both checks moved off,
    the event's index keys spread."""
    return [
        Design("A one item + the offer's check", 1, STOCK_UNITS + OFFER_CHECK_UNITS, INDEX_UNITS),
        Design("B one item, as the code stands", 1, STOCK_UNITS, INDEX_UNITS),
        Design(f"C {shards} shards, index keys as today", shards, STOCK_UNITS, INDEX_UNITS),
        Design(f"D {shards} shards, index keys spread", shards, STOCK_UNITS, 0),
    ]


def _cell(second: Second | None) -> str:
    if second is None:
        return f"{'':>6} {'':>6} {'':>6}"
    return f"{max(second.asked_units):>6} {second.throttled:>6} {second.booked:>6}"


def seconds_table(results: Sequence[Result], rows: int) -> list[str]:
    """Second by second: first requests, then for each design the units asked of its hottest stock partition, the
    writes throttled and the bookings made."""
    head = f"{'t':>3} {'new':>5} |" + " |".join(
        f" {r.design.name[0] + ' u/s':>6} {'thrott':>6} {'booked':>6}" for r in results
    )
    lines = [head]
    for t in range(rows):
        seconds = [r.seconds[t] if t < len(r.seconds) else None for r in results]
        arrivals = next((s.arrivals for s in seconds if s is not None), 0)
        lines.append(f"{t:>3} {arrivals:>5} |" + " |".join(" " + _cell(s) for s in seconds))
    return lines


def summary_table(results: Sequence[Result]) -> list[str]:
    lines = [
        f"{'design':<34} {'booked':>6} {'sold out':>8} {'stock u/s':>9} {'index u/s':>9} {'throttled':>9} "
        f"{'503s':>6} {'429s':>6} {'gave up':>7} {'fallback':>8} {'last 100':>8}"
    ]
    for r in results:
        sold = f"{r.sold_out_at + 1} s" if r.sold_out_at is not None else "no"
        lines.append(
            f"{r.design.name:<34} {r.booked:>6} {sold:>8} {r.peak_asked_units:>9} {r.peak_shared_units:>9} "
            f"{r.throttled:>9} {r.busy:>6} {r.refused_at_api:>6} {r.gave_up:>7} {r.via_fallback:>8} "
            f"{r.last_places_via_fallback(100):>8}"
        )
    return lines


def report(places: int, crowd: Crowd, client: Client, platform: Platform, seed: int, rows: int) -> str:
    admitted = "all" if platform.admitted_per_s is None else f"at most {platform.admitted_per_s} requests/s"
    shards = choose_shards(places, crowd, client, platform)
    main = [simulate(d, places, crowd, client, platform, seed) for d in designs(shards)]
    sweep = [simulate(spread(n), places, crowd, client, platform, seed) for n in SHARD_CANDIDATES[1:5]]
    limit = platform.partition_units
    lines = [
        f"A {places}-place event opens at 20:00 (seed {seed}). Crowd: {crowd.people} people, {crowd.ready_share:.0%} "
        f"in the first {crowd.ready_window_s} s, the others {crowd.mean_delay_s:.0f} s later on average.",
        f"A 503 or 429 is retried {client.retry_after_s[0]}-{client.retry_after_s[1]} s later, "
        f"{client.max_requests} requests at most. Reaching DynamoDB: {admitted}. Limit: {limit} units/s a partition.",
        f"A booking costs its stock partition {STOCK_UNITS} write units (A: +{OFFER_CHECK_UNITS}, the offer's check) "
        f"and each index partition the event's bookings share {INDEX_UNITS} (D: spread, none).",
        "",
        "Second by second: write units asked of the hottest stock partition, writes throttled, bookings made",
        *seconds_table(main, rows),
        "",
        "stock u/s, index u/s: the most write units one stock partition, one shared index partition, was asked for in",
        "a second (the limit is 1000); last 100: of the last 100 places, how many were found on a fallback shard",
        *summary_table(main),
        "",
        *summary_table(sweep),
        "",
        f"N = {shards}: the fewest shards with nothing throttled and every shard at or below {HEADROOM:.0%} of "
        f"{limit} units/s in its peak second, for seeds {SEED}, {SEED + 10} and {SEED + 20}.",
        summary_line(
            f"peak: {places}-place event at 20:00, writes throttled: A (before) / B (the code now) / D"
            f" ({shards} shards, index keys spread)",
            f"{main[0].throttled} / {main[1].throttled} / {main[-1].throttled}",
            "—",
        ),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--places", type=int, default=PLACES)
    parser.add_argument("--people", type=int, default=Crowd.people)
    parser.add_argument("--admitted", type=int, default=1_000, help="requests/s reaching DynamoDB; 0: no cap")
    parser.add_argument("--rows", type=int, default=30, help="seconds shown one by one")
    args = parser.parse_args(argv)
    platform = Platform(admitted_per_s=args.admitted or None)
    print(report(args.places, Crowd(people=args.people), Client(), platform, args.seed, args.rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
