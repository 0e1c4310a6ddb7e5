"""Per-organisation fault injection: what can go wrong on the wire between a client and Xero.

A ``script`` of fault kinds is consumed first (exact, for tests that need "the next call loses its
response"); after that faults are drawn at random with the configured rates, from a seeded generator
when a seed is given so that runs repeat.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from pydantic import BaseModel, Field

FaultKind = Literal["429", "500", "503", "slow", "lost_response", "hang"]
FAULT_KINDS: tuple[str, ...] = ("429", "500", "503", "slow", "lost_response", "hang")


class ResponseLostError(httpx.RemoteProtocolError):
    """Raised after the work is committed so the connection drops without a complete response.

    Under a real server the response head has been sent and the server closes the socket, so an httpx
    client reports ``RemoteProtocolError``; in-process (``ASGITransport``) the client sees this very
    exception, which is the same httpx transport error type.
    """


class FaultSettingsIn(BaseModel):
    """Body of ``POST /_sandbox/faults``; omitted rates become 0."""

    tenant_id: str | None = Field(default=None, description="None applies to every organisation")
    seed: int | None = None
    rate_429: float = Field(default=0, ge=0, le=1)
    rate_5xx: float = Field(default=0, ge=0, le=1)
    rate_slow: float = Field(default=0, ge=0, le=1)
    rate_lost_response: float = Field(default=0, ge=0, le=1)
    slow_seconds: float = Field(default=3, ge=0)
    lost_response_mode: Literal["drop", "hang"] = "drop"
    hang_seconds: float = Field(default=60, ge=0)
    script: list[FaultKind] = Field(default_factory=list)
    methods: list[str] | None = Field(default=None, description="only these HTTP methods, e.g. PUT, POST")


@dataclass
class FaultPlan:
    seed: int | None = None
    rate_429: float = 0
    rate_5xx: float = 0
    rate_slow: float = 0
    rate_lost_response: float = 0
    slow_seconds: float = 3
    lost_response_mode: str = "drop"
    hang_seconds: float = 60
    script: list[str] = field(default_factory=list)
    methods: list[str] | None = None
    injected: dict[str, int] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    @classmethod
    def from_settings(cls, settings: FaultSettingsIn) -> FaultPlan:
        return cls(
            seed=settings.seed,
            rate_429=settings.rate_429,
            rate_5xx=settings.rate_5xx,
            rate_slow=settings.rate_slow,
            rate_lost_response=settings.rate_lost_response,
            slow_seconds=settings.slow_seconds,
            lost_response_mode=settings.lost_response_mode,
            hang_seconds=settings.hang_seconds,
            script=list(settings.script),
            methods=[method.upper() for method in settings.methods] if settings.methods else None,
        )

    def draw(self, method: str) -> str | None:
        """The fault for this call, if any; ``lost_response`` becomes ``hang`` in hang mode."""
        if self.methods is not None and method.upper() not in self.methods:
            return None
        kind: str | None = None
        if self.script:
            kind = self.script.pop(0)
        else:
            # One draw per call keeps a seeded sequence stable however the rates are set.
            roll = self.rng.random()
            for name, rate in (
                ("429", self.rate_429),
                ("5xx", self.rate_5xx),
                ("slow", self.rate_slow),
                ("lost_response", self.rate_lost_response),
            ):
                if roll < rate:
                    kind = name
                    break
                roll -= rate
            if kind == "5xx":
                kind = self.rng.choice(["500", "503"])
        if kind == "lost_response" and self.lost_response_mode == "hang":
            kind = "hang"
        if kind is not None:
            self.injected[kind] = self.injected.get(kind, 0) + 1
        return kind

    def describe(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "rate_429": self.rate_429,
            "rate_5xx": self.rate_5xx,
            "rate_slow": self.rate_slow,
            "rate_lost_response": self.rate_lost_response,
            "slow_seconds": self.slow_seconds,
            "lost_response_mode": self.lost_response_mode,
            "hang_seconds": self.hang_seconds,
            "script": list(self.script),
            "methods": self.methods,
            "injected": dict(self.injected),
        }
