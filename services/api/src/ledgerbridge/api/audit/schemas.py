"""The audit trail as the API shows it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: uuid.UUID | None = Field(description="Empty once the user was removed; user_email stays")
    user_email: str
    action: str = Field(examples=["settings.update", "record.retry", "mapping.save"])
    subject: str = Field(examples=["record:3f0c…", "settings", "mapping:product:12", "connection:…"])
    before: dict[str, Any] | None = Field(description="What changed, as it was (secrets never recorded)")
    after: dict[str, Any] | None = Field(description="What changed, as it became (secrets never recorded)")
    created_at: datetime


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_before: int | None = Field(
        description="Pass as before= for the next (older) page; empty on the last page"
    )
