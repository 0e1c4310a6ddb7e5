"""Rate limiters the sandboxes use to behave like the services they stand in for.

ONTRAPORT counts requests in a fixed window per account; Onport drains a leaky bucket. Both take a
clock so tests can drive time instead of sleeping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]


@dataclass(frozen=True)
class WindowDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int


@dataclass
class FixedWindowLimiter:
    """``limit`` requests per ``window_seconds``; the window starts with the first request after the last
    one ended, which is how ONTRAPORT's per-minute budget looks from outside."""

    limit: int
    window_seconds: float
    clock: Clock = time.monotonic
    _window_start: float | None = field(default=None, init=False)
    _used: int = field(default=0, init=False)

    def hit(self) -> WindowDecision:
        now = self.clock()
        if self._window_start is None or now - self._window_start >= self.window_seconds:
            self._window_start = now
            self._used = 0
        reset = max(1, math.ceil(self._window_start + self.window_seconds - now))
        if self._used >= self.limit:
            return WindowDecision(False, self.limit, 0, reset)
        self._used += 1
        return WindowDecision(True, self.limit, self.limit - self._used, reset)

    def reset(self) -> None:
        self._window_start = None
        self._used = 0


@dataclass(frozen=True)
class BucketDecision:
    allowed: bool
    retry_after_seconds: float


@dataclass
class LeakyBucket:
    """A bucket measured in seconds of work: a request adds ``1 / rate`` seconds for its kind, the bucket
    drains one second per second, and a request that would overflow ``capacity_seconds`` is refused.

    With rates of 2/s (reads) and 1/s (writes) and a capacity of one second, two reads or one write can
    go at once and the next must wait, which is the behaviour Onport documents.
    """

    read_per_second: float
    write_per_second: float
    capacity_seconds: float = 1.0
    clock: Clock = time.monotonic
    _level: float = field(default=0.0, init=False)
    _last: float | None = field(default=None, init=False)

    def hit(self, *, write: bool) -> BucketDecision:
        now = self.clock()
        if self._last is not None:
            self._level = max(0.0, self._level - (now - self._last))
        self._last = now
        cost = 1.0 / (self.write_per_second if write else self.read_per_second)
        # A small tolerance keeps float drift from refusing a request that exactly fills the bucket.
        if self._level + cost > self.capacity_seconds + 1e-9:
            return BucketDecision(False, self._level + cost - self.capacity_seconds)
        self._level += cost
        return BucketDecision(True, 0.0)

    def reset(self) -> None:
        self._level = 0.0
        self._last = None
