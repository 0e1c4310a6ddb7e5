"""What every partner API client shares: its error type, records that keep what was received, limiter keys."""

from __future__ import annotations

import hashlib
from typing import Any, Self

from pydantic import BaseModel, PrivateAttr

from ledgerbridge.common.messaging.errors import PermanentError


class PartnerError(PermanentError):
    """A partner refused a request, or answered something we cannot read; the message says which."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class PartnerRecord(BaseModel):
    """A record typed for the fields we use; ``raw`` is the record exactly as the partner sent it."""

    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @classmethod
    def from_api(cls, record: Any) -> Self:
        model = cls.model_validate(record)
        model._raw = dict(record)
        return model

    @property
    def raw(self) -> dict[str, Any]:
        return dict(self._raw)


def limiter_key(partner: str, credential: str, prefix: str) -> str:
    """The Redis key of one partner account's rate budget. The credential names the account; it is hashed
    so the key never spells out anything secret."""
    digest = hashlib.sha256(credential.encode()).hexdigest()[:20]
    return f"{prefix}:ratelimit:{partner}:{digest}"
