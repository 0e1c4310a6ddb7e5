"""The plan and its usage."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ledgerbridge.common.models import Plan


class PlanOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"plan": "trial", "trial_limit": 20, "trial_used": 20, "waiting": 3}]}
    )

    plan: Plan
    trial_limit: int = Field(description="Transactions the trial syncs")
    trial_used: int = Field(description="Transactions synced on the trial so far")
    waiting: int = Field(description="Records held back until the plan is upgraded")


class UpgradeOut(PlanOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"plan": "pro", "trial_limit": 20, "trial_used": 20, "waiting": 0, "released": 3}]
        }
    )

    released: int = Field(
        description="Records held by the trial limit that were sent on to sync by this upgrade"
    )
