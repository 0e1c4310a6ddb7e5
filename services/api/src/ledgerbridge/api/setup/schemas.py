"""The setup steps."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SetupStep(BaseModel):
    key: str = Field(examples=["gateways"])
    title: str = Field(examples=["Map payment gateways"])
    done: bool
    missing: list[str] = Field(
        description="What the step still lacks: source ids without a mapping for the mapping steps, "
        "otherwise what to do",
        examples=[["3", "5"]],
    )
    summary: str = Field(
        description="The step's state in a sentence a bookkeeper understands",
        examples=["2 of 3 payment gateways in ONTRAPORT have no mapping yet: map them"],
    )


class SetupProgress(BaseModel):
    steps: list[SetupStep]
    onport: list[SetupStep] = Field(
        description="The Onport track's own steps (for marketplaces on Onport; not counted in `done`)"
    )
    done: int = Field(description="How many steps are done")
    complete: bool
