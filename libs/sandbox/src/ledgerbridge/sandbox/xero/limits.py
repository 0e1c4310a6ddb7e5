"""Xero's API limits: per-organisation minute, day and concurrency limits, and the app-wide minute limit.

Windows are rolling (a call counts for exactly one window length after it was made), which is how Xero
describes them; a rejected call does not use up quota.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass
class RollingWindow:
    limit: int
    seconds: float
    stamps: deque[float] = field(default_factory=deque)

    def _trim(self, now: float) -> None:
        while self.stamps and self.stamps[0] <= now - self.seconds:
            self.stamps.popleft()

    def remaining(self, now: float) -> int:
        self._trim(now)
        return max(0, self.limit - len(self.stamps))

    def retry_after(self, now: float) -> int:
        self._trim(now)
        if not self.stamps:
            return 1
        return max(1, math.ceil(self.stamps[0] + self.seconds - now))

    def record(self, now: float) -> None:
        self.stamps.append(now)


@dataclass
class OrgLimits:
    minute: RollingWindow
    day: RollingWindow
    concurrent_limit: int
    in_flight: int = 0


@dataclass
class LimitVerdict:
    problem: str | None
    retry_after: int = 0


def check_and_enter(org: OrgLimits, app: RollingWindow, now: float) -> LimitVerdict:
    """Admit one call (recording it everywhere) or say which limit it hits and when to come back."""
    if org.day.remaining(now) <= 0:
        return LimitVerdict("day", org.day.retry_after(now))
    if app.remaining(now) <= 0:
        return LimitVerdict("appminute", app.retry_after(now))
    if org.minute.remaining(now) <= 0:
        return LimitVerdict("minute", org.minute.retry_after(now))
    if org.in_flight >= org.concurrent_limit:
        return LimitVerdict("concurrent", 1)
    org.day.record(now)
    org.minute.record(now)
    app.record(now)
    org.in_flight += 1
    return LimitVerdict(None)


def leave(org: OrgLimits) -> None:
    org.in_flight = max(0, org.in_flight - 1)


def limit_headers(org: OrgLimits, app: RollingWindow, now: float) -> dict[str, str]:
    return {
        "X-MinLimit-Remaining": str(org.minute.remaining(now)),
        "X-DayLimit-Remaining": str(org.day.remaining(now)),
        "X-AppMinLimit-Remaining": str(app.remaining(now)),
    }
