"""Each service consumes its own queue."""

from __future__ import annotations

import enum


class Queue(enum.StrEnum):
    poller = "poller"
    mapper = "mapper"
    publisher = "publisher"


def queue_key(prefix: str, queue: Queue | str) -> str:
    """The Redis key of a queue; the prefix keeps deployments sharing a Redis apart."""
    return f"{prefix}:queue:{queue}"
