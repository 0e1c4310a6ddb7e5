"""The many-orgs bench's "most Xero calls in any rolling minute", which says whether the per-organisation
limiter held: it must count the way the Xero sandbox's rolling window counts."""

from __future__ import annotations

import random

from bench.many_orgs import most_in_window


def test_calls_a_full_window_apart_are_not_in_the_same_minute() -> None:
    # The sandbox forgets a call once it is `window` seconds old, so 0 and 60 are in different minutes.
    assert most_in_window([0.0, 60.0, 120.0]) == 1
    assert most_in_window([0.0, 59.999, 60.0]) == 2


def test_the_busiest_minute_is_found_wherever_it_is_and_in_any_order() -> None:
    calls = [float(i) for i in range(0, 600, 10)] + [300.0 + i / 10 for i in range(60)]
    random.Random(7).shuffle(calls)
    # 60 calls in [300, 306) plus the spaced calls at 300, 310, …, 350 inside that minute.
    assert most_in_window(calls) == 66
    assert most_in_window([]) == 0


def test_matches_a_brute_force_count() -> None:
    rng = random.Random(20261205)
    for _ in range(50):
        calls = [rng.uniform(0, 300) for _ in range(rng.randint(1, 200))]
        brute = max(sum(1 for t in calls if start <= t < start + 60) for start in calls)
        assert most_in_window(calls) == brute
