"""Xero's ``Idempotency-Key``: a repeated create within the retention window replays the first answer."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass
class StoredResponse:
    fingerprint: str
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    expires_at: float


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


class IdempotencyStore:
    def __init__(self, retention_seconds: float) -> None:
        self.retention_seconds = retention_seconds
        self._entries: dict[tuple[str, str], StoredResponse] = {}
        self.replays = 0

    def _purge(self, now: float) -> None:
        expired = [key for key, entry in self._entries.items() if entry.expires_at <= now]
        for key in expired:
            del self._entries[key]

    def lookup(self, tenant_id: str, key: str, now: float) -> StoredResponse | None:
        self._purge(now)
        return self._entries.get((tenant_id, key))

    def store(
        self,
        tenant_id: str,
        key: str,
        now: float,
        print_: str,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> None:
        self._entries[(tenant_id, key)] = StoredResponse(
            print_, status, headers, body, now + self.retention_seconds
        )
