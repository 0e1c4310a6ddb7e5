"""What the day plan reads and changes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

STARTER_DAY_LIMIT = 1000
DEFAULT_DAY_LIMIT = 5000


class DayLimitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day_limit: int = Field(
        ge=100,
        le=DEFAULT_DAY_LIMIT,
        description="Xero calls a day for this organisation: 5,000 (Xero's limit), or 1,000 when the app "
        "is on Xero's free Starter tier",
        examples=[STARTER_DAY_LIMIT],
    )


class DayPlanOut(BaseModel):
    connection_id: uuid.UUID
    day_limit: int = Field(description="Xero calls a day for this organisation")
    reserve: int = Field(description="Calls of the day kept for reads: reference data, look-ups, setup")
    calls_last_day: int = Field(description="Our calls to the organisation in the rolling day")
    sends_left_today: int = Field(description="Creates that still fit in the rolling day")
    pending_documents: int = Field(description="Documents waiting to be sent")
    calls_needed: int = Field(description="Calls those documents take, in batches of up to 50")
    done_by: datetime | None = Field(
        description="When the waiting documents will all be in Xero at this pace, later days included; "
        "null when nothing waits"
    )
    parked_until: datetime | None = Field(
        description="Nothing is sent before this (the day's calls are used)"
    )
