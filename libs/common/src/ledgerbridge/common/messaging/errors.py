"""Which failures are worth retrying.

arq retries only on ``Retry``; everything else fails the job at once. We decide here, once, so that a
network blip is retried with backoff and a missing mapping is recorded for a person to fix.
"""

from __future__ import annotations

import enum
import random

import httpx
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError


class TransientError(Exception):
    """Worth retrying as it is: a rate limit, a 5xx, a dropped connection, a lock timeout."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Retrying as it is will fail the same way; the message is shown to the user."""


class ErrorClass(enum.Enum):
    transient = "transient"
    permanent = "permanent"


# SQLSTATEs that clear by themselves: serialization failure, deadlock, lock timeout, query cancelled,
# too many connections, admin shutdown / cannot connect now.
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57014", "53300", "57P01", "57P03"}


def _sqlstate(exc: DBAPIError) -> str | None:
    original = exc.orig
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if state is None and original is not None:
        state = getattr(getattr(original, "__cause__", None), "sqlstate", None)
    return state if isinstance(state, str) else None


def classify(exc: BaseException) -> ErrorClass:
    if isinstance(exc, TransientError):
        return ErrorClass.transient
    if isinstance(exc, PermanentError):
        return ErrorClass.permanent
    if isinstance(exc, httpx.TransportError | PoolTimeoutError | OSError | TimeoutError):
        return ErrorClass.transient
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        return ErrorClass.transient if status == 429 or status >= 500 else ErrorClass.permanent
    if isinstance(exc, DBAPIError):
        if isinstance(exc, OperationalError) or exc.connection_invalidated:
            return ErrorClass.transient
        return ErrorClass.transient if _sqlstate(exc) in _TRANSIENT_SQLSTATES else ErrorClass.permanent
    return ErrorClass.permanent


def backoff_seconds(
    attempt: int, *, base: float = 1.0, cap: float = 300.0, retry_after: float | None = None
) -> float:
    """Exponential backoff with full jitter; a server's ``Retry-After`` is a floor, not a suggestion."""
    ceiling = min(cap, base * (2 ** max(attempt - 1, 0)))
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)
