"""Onport's timestamps, and where a new connection's ``updatedAt`` cursor starts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

CLOCK_SKEW = timedelta(minutes=2)
"""How far Onport's clock may run behind ours: a cursor starts this much in the past."""


def onport_stamp(moment: datetime) -> str:
    """A timestamp the way Onport writes ``updatedAt`` (UTC, milliseconds, ``Z``)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
