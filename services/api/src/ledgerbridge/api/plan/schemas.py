"""The plan and its usage."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ledgerbridge.common.models import Plan


class TrialOut(BaseModel):
    """The free trial: it ends after ``limit`` transactions or at ``ends_at``, whichever comes first."""

    limit: int = Field(description="Transactions the trial syncs", examples=[20])
    used: int = Field(description="Transactions synced on the trial so far", examples=[12])
    remaining: int = Field(description="Transactions the trial still syncs", examples=[8])
    ends_at: datetime = Field(description="When the trial's days are over")
    ended: bool = Field(description="No more transactions go to Xero before an upgrade")


class PlanOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "plan": "trial",
                    "trial": {
                        "limit": 20,
                        "used": 20,
                        "remaining": 0,
                        "ends_at": "2026-12-31T09:00:00Z",
                        "ended": True,
                    },
                    "waiting": 3,
                }
            ]
        }
    )

    plan: Plan
    trial: TrialOut | None = Field(description="The trial's usage; none on a paid plan")
    waiting: int = Field(description="Records held back until the plan is upgraded")


class UpgradeOut(PlanOut):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"plan": "pro", "trial": None, "waiting": 0, "released": 3}]}
    )

    released: int = Field(
        description="Records held by the trial (its limit or its end) that this upgrade sent on to sync"
    )
