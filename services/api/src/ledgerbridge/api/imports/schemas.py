"""Import requests and their progress."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from ledgerbridge.common.models import ImportStatus

MAX_LAST_N = 100_000


class ImportIn(BaseModel):
    """Either a date range (``since``, optionally ``until``) or ``last_n``, never both."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "connection_id": "9b2f7f0e-3c1d-4c59-9f3e-2a8d1c6b7e10",
                    "since": "2024-01-01",
                    "until": "2024-06-30",
                },
                {"connection_id": "9b2f7f0e-3c1d-4c59-9f3e-2a8d1c6b7e10", "last_n": 500},
            ]
        },
    )

    connection_id: uuid.UUID = Field(description="The ONTRAPORT or Onport connection to import from")
    since: date | None = Field(default=None, description="First day included (the account's time zone)")
    until: date | None = Field(default=None, description="Last day included; unset means up to now")
    last_n: int | None = Field(default=None, ge=1, le=MAX_LAST_N, description="The most recent N records")

    @model_validator(mode="after")
    def _one_way(self) -> ImportIn:
        has_range = self.since is not None or self.until is not None
        if has_range and self.last_n is not None:
            raise ValueError("give either a date range (since, until) or last_n, not both")
        if not has_range and self.last_n is None:
            raise ValueError("give a date range (since, until) or last_n")
        if has_range and self.since is None:
            raise ValueError("a date range needs since")
        if self.since is not None and self.until is not None and self.since > self.until:
            raise ValueError("since is after until")
        return self

    def params(self) -> dict[str, Any]:
        """What the poller's import job reads: ``{"since", "until"?}`` (ISO dates) or ``{"last_n"}``."""
        if self.last_n is not None:
            return {"last_n": self.last_n}
        params: dict[str, Any] = {"since": self.since.isoformat() if self.since else None}
        if self.until is not None:
            params["until"] = self.until.isoformat()
        return params


class ImportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    connection_id: uuid.UUID
    params: dict[str, Any]
    status: ImportStatus
    total: int | None = Field(description="How many records the import covers, once known")
    done: int
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @computed_field(description="done / total, 0..1; null while the total is not known")  # type: ignore[prop-decorator]
    @property
    def progress(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


class ImportList(BaseModel):
    items: list[ImportOut]
